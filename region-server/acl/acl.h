#pragma once

// Users and their permissions, as Redis 7.0's ACLs (docs/security.md, "ACLs"). Pure: no I/O
// except LoadFile/SaveFile, no clock (the log takes the time), no clients (the caller
// disconnects the clients of users that went away). Not thread-safe: the event loop owns it.
//
// A user has flags (on/off, nopass), SHA-256 password hashes and selectors: the root selector
// and any added with "(...)". A selector allows commands (a bitmap over Redis's whole command
// table, acl/command_meta.h, plus first-argument exceptions such as +select|0), key patterns with
// read/write permissions (~, %R~, %W~) and channel patterns (&). A command runs when any one
// selector allows the command, every key it names and every channel.

#include <bitset>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "region-server/acl/command_meta.h"

namespace activekv::server::acl {

// Why a command was refused, in Redis's order of relevance (ACL_DENIED_*).
enum class Verdict { kOk = 0, kCommand = 1, kKey = 2, kAuth = 3, kChannel = 4 };

constexpr uint32_t kPermRead = 1;
constexpr uint32_t kPermWrite = 2;

// How a user is described. kReply is Redis 7.0's text (ACL LIST, ACL GETUSER). kFile is what
// ACL SAVE writes: the same, except that a key pattern "*" holding both permissions without being
// "allkeys" (%RW~*, or %R~* and %W~*) is written %RW~*. Redis describes it as ~*, which loads
// back as allkeys and refuses any key pattern after it (docs/security.md, "ACL files").
enum class Form { kReply, kFile };

class Selector {
 public:
  explicit Selector(bool root) : root_(root) {}
  // One rule (allkeys, ~pat, %R~pat, &chan, +cmd, -@cat, +cmd|firstarg ...). False with `*error`
  // Redis's text ("Syntax error", "Unknown command or category name in ACL" ...).
  bool Apply(std::string_view op, std::string* error);
  // ACL LIST's form of this selector: keys, channels, then command rules.
  std::string Describe(Form form = Form::kReply) const;
  std::string DescribeCommands() const;                      // ACL GETUSER "commands"
  std::string DescribeKeys(Form form = Form::kReply) const;  // ACL GETUSER "keys"
  std::string DescribeChannels() const;                      // ACL GETUSER "channels"
  // `*pos`: the argument of a refused key or channel.
  Verdict Check(const CommandMeta& meta, absl::Span<const std::string_view> args,
                const std::vector<KeyRef>& keys, size_t* pos) const;
  bool all_channels() const { return all_channels_; }
  bool unrestricted() const { return all_commands_ && all_keys_ && all_channels_; }
  bool future_commands() const { return bits_[kFutureBit]; }
  // May name `channel` (a PSUBSCRIBE pattern, `literal`: equal to one of its patterns).
  bool ChannelAllowed(std::string_view channel, bool literal) const;
  bool root() const { return root_; }

 private:
  static constexpr size_t kBits = 1024;
  static constexpr size_t kFutureBit = kBits - 1;  // set by +@all only: "future commands"
  void SetCommand(const CommandMeta& meta, bool allow);
  void SetCategory(uint32_t category, bool allow);
  bool Allowed(uint32_t id) const { return bits_[id]; }

  bool root_;
  bool all_keys_ = false;
  bool all_channels_ = false;
  bool all_commands_ = false;
  std::bitset<kBits> bits_;
  std::map<uint32_t, std::vector<std::string>> firstargs_;  // command id -> allowed argv[1]
  struct KeyPattern {
    uint32_t perms;
    std::string pattern;
  };
  std::vector<KeyPattern> keys_;
  std::vector<std::string> channels_;
};

struct User {
  explicit User(std::string n);
  std::string name;
  bool enabled = false;
  bool nopass = false;
  // RESTORE payload sanitizing (accepted and shown as Redis 7.0 does; RESTORE is not served):
  // 0 unset, 1 skip-sanitize-payload, 2 sanitize-payload.
  int sanitize = 0;
  std::vector<std::string> passwords;  // lower-case hex SHA-256
  std::vector<Selector> selectors;     // [0] is the root selector
  // A user-level rule (on, off, nopass, resetpass, >pass, <pass, #hash, !hash, reset,
  // clearselectors, "(...)") or a root selector rule.
  bool Apply(std::string_view op, std::string* error);
  // Redis's flag names, in its order: on|off, nopass, skip-sanitize-payload|sanitize-payload.
  std::vector<std::string_view> Flags() const;
  // ACL LIST's description after "user <name> " (kFile: ACL SAVE's).
  std::string Describe(Form form = Form::kReply) const;
  bool PasswordMatches(std::string_view password) const;
  // Every command, key and channel allowed by the root selector: no check needed.
  bool Unrestricted() const { return selectors[0].unrestricted(); }
  // Commands Redis does not have (activekv's CRDT.*): allowed with +@all, as Redis allows a
  // module's commands loaded later.
  bool AllowsFutureCommands() const;
  bool AllChannels() const;
  // May subscribe to `channel` (a pattern literally when `pattern`).
  bool ChannelAllowed(std::string_view channel, bool pattern) const;
  Verdict Check(const CommandMeta& meta, absl::Span<const std::string_view> args,
                size_t* pos) const;
};

// Lower-case hex SHA-256 of `password` (how passwords are stored and shown).
std::string HashPassword(std::string_view password);

// Redis's sdssplitargs-free merge of a selector spread over several arguments ("(~x*", "+get)").
// False when a parenthesis is left open; `*open` is the argument that opened it.
bool MergeSelectorArgs(absl::Span<const std::string_view> args, std::vector<std::string>* out,
                       size_t* open);

struct LogEntry {
  uint64_t count = 1;
  Verdict reason = Verdict::kCommand;
  std::string context;  // toplevel, multi, lua
  std::string object;
  std::string username;
  int64_t ctime_ms = 0;
  std::string client_info;
};

class Acl {
 public:
  Acl();  // just "default": on nopass ~* &* +@all
  const User* Find(std::string_view name) const;
  User* default_user() { return users_.at("default").get(); }
  const std::map<std::string, std::unique_ptr<User>, std::less<>>& users() const { return users_; }

  // ACL SETUSER: every rule applies or none. Returns "" or the error reply (with "ERR").
  std::string SetUser(std::string_view name, absl::Span<const std::string_view> rules);
  // ACL DELUSER: the users deleted (their clients must go); "default" cannot be.
  std::vector<std::unique_ptr<User>> DelUsers(absl::Span<const std::string_view> names);
  // requirepass: the default user's only password, or nopass when empty.
  void SetRequirePass(std::string_view password);
  // AUTH: the user when `name` exists, is on and `password` matches; null otherwise.
  const User* Authenticate(std::string_view name, std::string_view password) const;

  // ACL LOAD: replaces every user from `path`'s text or changes nothing; returns "" or Redis's
  // error text. `*replaced` gets the users that went away (their clients must go). The default
  // user is updated in place (clients keep it).
  std::string LoadFile(const std::string& path, std::vector<std::unique_ptr<User>>* replaced);
  // The file's text (ACL SAVE writes it), one "user <name> <Describe(kFile)>" line per user, or
  // "" with `*error` set when a user has a rule that line cannot hold, so that the file would not
  // load back as the same users: a blank in a first argument (+select|a b: ACL SETUSER takes it,
  // as Redis 7.0 does, but the file splits it) or a rule ending with ')' inside a selector
  // ((+get ~x)) holds the pattern "x)": the file ends the selector there). Redis 7.0 writes such
  // a file and then refuses it at ACL LOAD or at the next start.
  std::string Serialize(std::string* error) const;

  // ACL LOG.
  void Log(Verdict reason, std::string_view context, std::string_view object,
           std::string_view username, int64_t now_ms, std::string client_info);
  const std::deque<LogEntry>& log() const { return log_; }
  void ResetLog() { log_.clear(); }
  size_t log_max_len = 128;

 private:
  std::map<std::string, std::unique_ptr<User>, std::less<>> users_;
  std::deque<LogEntry> log_;
};

}  // namespace activekv::server::acl
