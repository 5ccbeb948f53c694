#include "lifecycle/stop_requests.h"

#include <linux/input-event-codes.h>

#include <gtest/gtest.h>

namespace microbeam {
namespace {

TEST(StopForSignal, MapsEachStopSignalToItsAction) {
  EXPECT_EQ(StopForSignal(SIGINT)->action, ExitPolicy::kPoweroff);
  EXPECT_EQ(StopForSignal(SIGPWR)->action, ExitPolicy::kPoweroff);
  EXPECT_EQ(StopForSignal(SIGUSR2)->action, ExitPolicy::kPoweroff);
  EXPECT_EQ(StopForSignal(SIGUSR1)->action, ExitPolicy::kReboot);
  EXPECT_EQ(StopForSignal(SIGUSR1)->what, "SIGUSR1");
}

TEST(StopForSignal, LeavesSigtermAndOthersToErts) {
  EXPECT_FALSE(StopForSignal(SIGTERM).has_value());
  EXPECT_FALSE(StopForSignal(SIGCHLD).has_value());
  EXPECT_FALSE(StopForSignal(SIGQUIT).has_value());
}

TEST(StopSignals, IsExactlyTheSignalsStopForSignalMaps) {
  sigset_t set = StopSignals();
  for (int sig = 1; sig < 32; ++sig) {
    EXPECT_EQ(sigismember(&set, sig) == 1, StopForSignal(sig).has_value()) << "signal " << sig;
  }
}

TEST(StopKeys, PowerKeyPressIsAPoweroffRequest) {
  StopKeys keys;
  std::optional<StopRequest> r = keys.OnKey(KEY_POWER, 1);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->action, ExitPolicy::kPoweroff);
  EXPECT_FALSE(keys.OnKey(KEY_POWER, 0).has_value());  // release
  EXPECT_FALSE(keys.OnKey(KEY_POWER, 2).has_value());  // autorepeat
}

TEST(StopKeys, CtrlAltDelNeedsBothModifiersHeld) {
  StopKeys keys;
  EXPECT_FALSE(keys.OnKey(KEY_DELETE, 1).has_value());
  keys.OnKey(KEY_LEFTCTRL, 1);
  EXPECT_FALSE(keys.OnKey(KEY_DELETE, 1).has_value());
  keys.OnKey(KEY_RIGHTALT, 1);
  std::optional<StopRequest> r = keys.OnKey(KEY_DELETE, 1);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->what, "Ctrl-Alt-Del");
  keys.OnKey(KEY_LEFTCTRL, 0);
  EXPECT_FALSE(keys.OnKey(KEY_DELETE, 1).has_value());  // Ctrl released
}

TEST(StopKeys, OneCtrlReleasedWhileTheOtherIsHeldStillCounts) {
  StopKeys keys;
  keys.OnKey(KEY_LEFTCTRL, 1);
  keys.OnKey(KEY_RIGHTCTRL, 1);
  keys.OnKey(KEY_LEFTCTRL, 0);
  keys.OnKey(KEY_LEFTALT, 1);
  EXPECT_TRUE(keys.OnKey(KEY_DELETE, 1).has_value());
}

}  // namespace
}  // namespace microbeam
