#include "region-server/notify.h"

#include "absl/strings/str_cat.h"
#include "region-server/pubsub.h"

namespace activekv::server {

bool ParseNotifyFlags(std::string_view classes, uint32_t* flags) {
  uint32_t f = 0;
  for (char c : classes) {
    switch (c) {
      case 'A':
        f |= kNotifyAll;
        break;
      case 'g':
        f |= kNotifyGeneric;
        break;
      case '$':
        f |= kNotifyString;
        break;
      case 'l':
        f |= kNotifyList;
        break;
      case 's':
        f |= kNotifySet;
        break;
      case 'h':
        f |= kNotifyHash;
        break;
      case 'z':
        f |= kNotifyZset;
        break;
      case 'x':
        f |= kNotifyExpired;
        break;
      case 'e':
        f |= kNotifyEvicted;
        break;
      case 'K':
        f |= kNotifyKeyspace;
        break;
      case 'E':
        f |= kNotifyKeyevent;
        break;
      case 't':
        f |= kNotifyStream;
        break;
      case 'm':
        f |= kNotifyKeyMiss;
        break;
      case 'd':
        f |= kNotifyModule;
        break;
      case 'n':
        f |= kNotifyNew;
        break;
      default:
        return false;
    }
  }
  *flags = f;
  return true;
}

std::string NotifyFlagsToString(uint32_t flags) {
  std::string out;
  if ((flags & kNotifyAll) == kNotifyAll) {
    out += 'A';
  } else {
    static constexpr std::pair<uint32_t, char> kClasses[] = {
        {kNotifyGeneric, 'g'}, {kNotifyString, '$'}, {kNotifyList, 'l'},    {kNotifySet, 's'},
        {kNotifyHash, 'h'},    {kNotifyZset, 'z'},   {kNotifyExpired, 'x'}, {kNotifyEvicted, 'e'},
        {kNotifyStream, 't'},  {kNotifyModule, 'd'}};
    for (const auto& [bit, c] : kClasses) {
      if (flags & bit) out += c;
    }
    // Redis 7.0 prints 'n' here, so "KEAn" reads back "AKE" (the n is kept, only not shown).
    if (flags & kNotifyNew) out += 'n';
  }
  if (flags & kNotifyKeyspace) out += 'K';
  if (flags & kNotifyKeyevent) out += 'E';
  if (flags & kNotifyKeyMiss) out += 'm';
  return out;
}

void Notifier::Notify(uint32_t type, std::string_view event, std::string_view key, uint32_t db) {
  if ((flags_ & type) == 0) return;
  if (flags_ & kNotifyKeyspace) {
    channel_.clear();
    absl::StrAppend(&channel_, "__keyspace@", db, "__:");
    channel_.append(key);
    pubsub_->Publish(channel_, event, false);
  }
  if (flags_ & kNotifyKeyevent) {
    channel_.clear();
    absl::StrAppend(&channel_, "__keyevent@", db, "__:");
    channel_.append(event);
    pubsub_->Publish(channel_, key, false);
  }
}

}  // namespace activekv::server
