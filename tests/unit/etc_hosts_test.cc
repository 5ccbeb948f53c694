#include "boot/etc_hosts.h"

#include <gtest/gtest.h>

namespace microbeam {
namespace {

TEST(EtcHosts, NamesLocalhostAndTheHostNameOnLoopback) {
  EXPECT_EQ(EtcHostsFor("microbeam"), "127.0.0.1\tlocalhost microbeam\n");
  EXPECT_EQ(EtcHostsFor("localhost"), "127.0.0.1\tlocalhost\n");
  EXPECT_EQ(EtcHostsFor(""), "127.0.0.1\tlocalhost\n");
}

}  // namespace
}  // namespace microbeam
