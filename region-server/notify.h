#pragma once

// Keyspace notifications (Redis 7.0's notify.c; docs/messaging.md, "Keyspace notifications"):
// the notify-keyspace-events classes, and publishing an event about a key to this region's
// subscribers of __keyspace@<db>__:<key> (message: the event) and __keyevent@<db>__:<event>
// (message: the key). Events are never sent to peers: every region notifies for the changes it
// applies, its own commands' and its peers' ops alike (Region::set_notifier).
//
// Event-loop thread only.

#include <cstdint>
#include <string>
#include <string_view>

namespace activekv::server {

class PubSub;

// Event classes: Redis's NOTIFY_* values.
enum NotifyClass : uint32_t {
  kNotifyKeyspace = 1 << 0,  // K
  kNotifyKeyevent = 1 << 1,  // E
  kNotifyGeneric = 1 << 2,   // g
  kNotifyString = 1 << 3,    // $
  kNotifyList = 1 << 4,      // l
  kNotifySet = 1 << 5,       // s
  kNotifyHash = 1 << 6,      // h
  kNotifyZset = 1 << 7,      // z
  kNotifyExpired = 1 << 8,   // x
  kNotifyEvicted = 1 << 9,   // e (never fired: activekv does not evict)
  kNotifyStream = 1 << 10,   // t
  kNotifyKeyMiss = 1 << 11,  // m
  kNotifyLoaded = 1 << 12,   // module only, no character
  kNotifyModule = 1 << 13,   // d (never fired: no modules)
  kNotifyNew = 1 << 14,      // n
};
// "A": every class but m and n.
inline constexpr uint32_t kNotifyAll = kNotifyGeneric | kNotifyString | kNotifyList | kNotifySet |
                                       kNotifyHash | kNotifyZset | kNotifyExpired | kNotifyEvicted |
                                       kNotifyStream | kNotifyModule;

// keyspaceEventsStringToFlags: false on a character that names no class.
bool ParseNotifyFlags(std::string_view classes, uint32_t* flags);
// keyspaceEventsFlagsToString: the canonical form CONFIG GET shows ("AKE", "g$KE", ...).
std::string NotifyFlagsToString(uint32_t flags);
// CONFIG SET's error text for a bad class character (Redis 7.0's).
inline constexpr std::string_view kErrNotifyClass =
    "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

// Publishes events to a PubSub registry, which must outlive the Notifier (the Server owns both).
class Notifier {
 public:
  explicit Notifier(PubSub* pubsub) : pubsub_(pubsub) {}
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  uint32_t flags() const { return flags_; }
  void set_flags(uint32_t flags) {
    flags_ = flags;
    constexpr uint32_t kChannels = kNotifyKeyspace | kNotifyKeyevent;
    on_ = (flags & kChannels) != 0 && (flags & ~kChannels) != 0;
  }
  // Some event can be delivered (a class and K or E are on). Off: callers skip all the work of
  // naming events, so notifications off cost one test of this flag.
  bool on() const { return on_; }

  // notifyKeyspaceEvent: `type` is the event's class (kNotifyString...), `db` the logical
  // database. Nothing happens unless `type` is among the flags.
  void Notify(uint32_t type, std::string_view event, std::string_view key, uint32_t db);

 private:
  PubSub* pubsub_;
  uint32_t flags_ = 0;
  bool on_ = false;
  std::string channel_;  // reused
};

}  // namespace activekv::server
