#include "config/process_keys.h"

#include <sys/resource.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"

namespace microbeam {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParseLimits, EntriesInACommaList) {
  std::vector<ResourceLimit> limits;
  std::vector<std::string> errors;
  ParseLimits("nofile:4096:8192,core:unlimited:unlimited", limits, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_THAT(limits, ElementsAre(ResourceLimit{RLIMIT_NOFILE, "nofile", 4096, 8192},
                                  ResourceLimit{RLIMIT_CORE, "core", kUnlimited, kUnlimited}));
  ParseLimits("nofile:100:200", limits, errors);  // a later entry replaces one
  EXPECT_THAT(limits, ElementsAre(ResourceLimit{RLIMIT_CORE, "core", kUnlimited, kUnlimited},
                                  ResourceLimit{RLIMIT_NOFILE, "nofile", 100, 200}));
}

TEST(ParseLimits, EveryResourceName) {
  for (const char* name : {"as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile",
                           "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"}) {
    EXPECT_TRUE(ResourceByName(name).has_value()) << name;
  }
  EXPECT_EQ(ResourceByName("NOFILE"), std::nullopt);
  EXPECT_EQ(ResourceByName("files"), std::nullopt);
}

TEST(ParseLimits, BadEntriesAreNamedAndTheRestApply) {
  std::vector<ResourceLimit> limits;
  std::vector<std::string> errors;
  ParseLimits("nofile:10:5,files:1:2,core:1,stack:8m:unlimited,nproc:-1:5,nproc:+1:5,cpu:1:2,a\nb", limits, errors);
  EXPECT_THAT(limits, ElementsAre(ResourceLimit{RLIMIT_CPU, "cpu", 1, 2}));
  ASSERT_EQ(errors.size(), 7u);
  EXPECT_EQ(errors[0], "\"nofile:10:5\": SOFT is above HARD");
  EXPECT_THAT(errors[1], HasSubstr("\"files:1:2\": unknown resource (as, core, cpu,"));
  EXPECT_EQ(errors[2], "\"core:1\": not RESOURCE:SOFT:HARD");
  EXPECT_EQ(errors[3], "\"stack:8m:unlimited\": SOFT and HARD must be numbers or unlimited");
  EXPECT_EQ(errors[6], "\"a?b\": not RESOURCE:SOFT:HARD");  // a control character never splits the line
  EXPECT_EQ(LimitsWarning({errors[0]}),
            "microbeam: microbeam.limits: \"nofile:10:5\": SOFT is above HARD; that limit is left as it is");
  EXPECT_THAT(LimitsWarning(errors), HasSubstr("; those limits are left as they are"));
  errors.clear();
  ParseLimits("", limits, errors);
  EXPECT_EQ(errors.size(), 1u);
}

TEST(CorePattern, WhatTheKernelTakes) {
  EXPECT_EQ(CorePatternError("/tmp/core.%e.%p"), "");
  EXPECT_EQ(CorePatternError("|/bin/handler %p"), "");
  EXPECT_EQ(CorePatternError(""), "empty");
  EXPECT_EQ(CorePatternError(std::string(128, 'c')), "longer than the kernel's 127 characters");
  EXPECT_EQ(CorePatternError("a\nb"), "not printable ASCII");
}

TEST(Cwd, AbsoluteWithoutDotDot) {
  EXPECT_EQ(CwdError("/data"), "");
  EXPECT_EQ(CwdError("/"), "");
  EXPECT_EQ(CwdError("/data/..x"), "");
  EXPECT_EQ(CwdError("data"), "not an absolute path");
  EXPECT_EQ(CwdError("/data/../etc"), "holds \"..\"");
  EXPECT_EQ(CwdError("/" + std::string(4095, 'a')), "longer than 4095 bytes");
}

TEST(ParseConfig, TheProcessKeys) {
  ParsedConfig p = ParseConfig({"microbeam.limits=nofile:1024:4096", "microbeam.limits=core:0:unlimited",
                                "microbeam.core_pattern=/tmp/core.%e", "microbeam.cwd=/data",
                                "microbeam.seed_credit=0"},
                               {});
  EXPECT_TRUE(p.warnings.empty()) << p.warnings.front();
  EXPECT_THAT(p.config.limits, ElementsAre(ResourceLimit{RLIMIT_NOFILE, "nofile", 1024, 4096},
                                           ResourceLimit{RLIMIT_CORE, "core", 0, kUnlimited}));
  EXPECT_EQ(p.config.core_pattern, "/tmp/core.%e");
  EXPECT_EQ(p.config.cwd, "/data");
  EXPECT_FALSE(p.config.seed_credit);
}

TEST(ParseConfig, BadProcessKeysAreOneLineEach) {
  ParsedConfig p = ParseConfig({"microbeam.limits=nofile:9:1,bogus:1:1,core:0:0", "microbeam.core_pattern=",
                                "microbeam.cwd=relative", "microbeam.seed_credit=maybe"},
                               {});
  EXPECT_THAT(p.config.limits, ElementsAre(ResourceLimit{RLIMIT_CORE, "core", 0, 0}));
  EXPECT_TRUE(p.config.core_pattern.empty());
  EXPECT_TRUE(p.config.cwd.empty());
  EXPECT_TRUE(p.config.seed_credit);
  ASSERT_EQ(p.warnings.size(), 4u);
  EXPECT_THAT(p.warnings[0], HasSubstr("microbeam: microbeam.limits: \"nofile:9:1\": SOFT is above HARD; "
                                       "\"bogus:1:1\": unknown resource"));
  EXPECT_THAT(p.warnings[0], HasSubstr("; those limits are left as they are"));
  EXPECT_EQ(p.warnings[1], "microbeam: microbeam.core_pattern=: empty; using the kernel's");
  EXPECT_EQ(p.warnings[2], "microbeam: microbeam.cwd=relative: not an absolute path; using /");
  EXPECT_THAT(p.warnings[3], HasSubstr("microbeam.seed_credit=maybe"));
  for (const std::string& w : p.warnings) EXPECT_EQ(w.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace microbeam
