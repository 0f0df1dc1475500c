// region-server/backup_scheduler.h: when scheduled backups are due.
#include "region-server/backup_scheduler.h"

#include "gtest/gtest.h"

namespace activekv::server {
namespace {

TEST(NextBackupTime, IsTheNextSlotOfTheIntervalAfterTheOffset) {
  constexpr int64_t kDay = 86400;
  const int64_t midnight = 20000 * kDay;  // a UTC midnight
  // Daily at 02:30 UTC.
  EXPECT_EQ(NextBackupTime(midnight, kDay, 9000), midnight + 9000);
  EXPECT_EQ(NextBackupTime(midnight + 9000, kDay, 9000), midnight + kDay + 9000);  // strictly after
  EXPECT_EQ(NextBackupTime(midnight + 9001, kDay, 9000), midnight + kDay + 9000);
  // Every 4 hours from 01:00: 01:00, 05:00, 09:00...
  EXPECT_EQ(NextBackupTime(midnight + 3 * 3600, 4 * 3600, 3600), midnight + 5 * 3600);
  // An offset past the interval is taken modulo the interval.
  EXPECT_EQ(NextBackupTime(midnight, 3600, 3600 + 600), midnight + 600);
  // Every second.
  EXPECT_EQ(NextBackupTime(1234, 1, 0), 1235);
}

}  // namespace
}  // namespace activekv::server
