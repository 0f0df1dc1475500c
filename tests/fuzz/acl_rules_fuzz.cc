// libFuzzer target for the ACL rule parser (region-server/acl/acl.h, docs/security.md "ACLs",
// docs/fuzzing.md). The first input byte picks a mode and a starting user; the rest is text.
//
// SETUSER (bit 0 clear): the first line is the argument list of ACL SETUSER (split on ' ', empty
// arguments kept, "(" ... ")" selectors spread over arguments as a client sends them) for user
// "u" (or "default": bits 1-2 pick what the user is before: absent, or one of a few users);
// every later line is a command (arguments split on ' ') whose permission is checked.
// Invariants:
//   - SetUser is all or nothing: it succeeds exactly when every merged rule applies to a copy of
//     the user (User::Apply); a refusal ("ERR ...") leaves every user as it was (Serialize);
//   - ACL SAVE's text (Acl::Serialize: "user <name> " + User::Describe(kFile) per user) is
//     refused (a rule the file format cannot delimit) or loads back (LoadFile: fresh users, the
//     described rules applied one by one) without an error, into users that describe
//     identically;
//   - the original and the reloaded user decide alike: Check's verdict and refused argument for
//     each command line and for a command of the table chosen by the input, flags, passwords
//     (PasswordMatches, Authenticate), channels, future commands; a user Unrestricted() (the
//     server then checks nothing) is refused nothing.
// ACL file (bit 0 set): the rest is an ACL file for LoadFile. Invariants: a refused file (an
// error text) changes no user; an accepted one serializes (unless Serialize refuses) to a file
// that loads back to the same serialization (idempotent), and the default user always exists.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.h"
#include "region-server/acl/acl.h"
#include "region-server/acl/command_meta.h"

namespace activekv::server::acl {
namespace {

// ACL files go through a real file: LoadFile reads a path.
const std::string& FilePath() {
  static const auto* path = new std::string(
      (access("/dev/shm", W_OK) == 0 ? std::string("/dev/shm") : std::string("/tmp")) +
      "/acl_rules_fuzz." + std::to_string(getpid()) + ".acl");
  return *path;
}

std::string Load(Acl* acl, const std::string& text) {
  FILE* f = std::fopen(FilePath().c_str(), "wb");
  FUZZ_CHECK(f != nullptr);
  FUZZ_CHECK(std::fwrite(text.data(), 1, text.size(), f) == text.size());
  FUZZ_CHECK(std::fclose(f) == 0);
  std::vector<std::unique_ptr<User>> replaced;
  return acl->LoadFile(FilePath(), &replaced);
}

std::vector<std::string_view> Words(std::string_view line, bool keep_empty) {
  std::vector<std::string_view> out;
  for (std::string_view w : fuzz::Split(line, ' ')) {
    if (keep_empty || !w.empty()) out.push_back(w);
  }
  return out;
}

// Users that rules are applied to: none (a new user), or one of these.
const char* const kStartingUsers[] = {
    "",
    "reset on >secret ~k* +get",
    "reset on nopass allkeys allchannels +@all -debug (+set ~x* &c*) (%R~r* -@all +get|a)",
};

// Everything observable about how `a` and `b` decide, for `commands` and one command of the
// table picked by `pick`, must be the same.
void SameDecisions(const User& a, const User& b, const std::vector<std::string_view>& commands,
                   size_t pick) {
  FUZZ_CHECK(a.Flags() == b.Flags());
  FUZZ_CHECK(a.AllowsFutureCommands() == b.AllowsFutureCommands());
  FUZZ_CHECK(a.AllChannels() == b.AllChannels());
  const CommandMetaTable& table = CommandMetaTable::Get();
  auto check = [&](const std::vector<std::string_view>& args) {
    if (args.empty()) return;
    const CommandMeta* meta = table.Resolve(args);
    if (meta == nullptr) return;
    size_t pa = 0, pb = 0;
    const Verdict va = a.Check(*meta, args, &pa);
    const Verdict vb = b.Check(*meta, args, &pb);
    FUZZ_CHECK(va == vb);
    if (va != Verdict::kOk) FUZZ_CHECK(pa == pb);
    // Unrestricted() is the server's fast path (no check at all): it must not skip a refusal.
    // (It is not compared: "+@all -debug +@dangerous" allows what +@all does but is not it.)
    if (a.Unrestricted()) FUZZ_CHECK(va == Verdict::kOk);
    if (b.Unrestricted()) FUZZ_CHECK(vb == Verdict::kOk);
  };
  const CommandMeta& picked = table.all()[pick % table.all().size()];
  const std::string name(picked.fullname);
  for (std::string_view line : commands) {
    std::vector<std::string_view> args = Words(line, /*keep_empty=*/false);
    check(args);
    // The picked command (a subcommand as its two words) with this line as its arguments.
    std::vector<std::string_view> with = Words(name, false);
    if (const size_t bar = name.find('|'); bar != std::string::npos) {
      with = {std::string_view(name).substr(0, bar), std::string_view(name).substr(bar + 1)};
    }
    with.insert(with.end(), args.begin(), args.end());
    check(with);
    for (std::string_view w : args) {
      FUZZ_CHECK(a.PasswordMatches(w) == b.PasswordMatches(w));
      FUZZ_CHECK(a.ChannelAllowed(w, false) == b.ChannelAllowed(w, false));
      FUZZ_CHECK(a.ChannelAllowed(w, true) == b.ChannelAllowed(w, true));
    }
  }
}

// Every user's description in ACL SAVE's form, whether or not a file can hold it.
std::string Listing(const Acl& acl) {
  std::string out;
  for (const auto& [name, user] : acl.users()) {
    out += "user " + name + " " + user->Describe(Form::kFile) + "\n";
  }
  return out;
}

void SetUserMode(uint8_t control, std::string_view text) {
  const std::vector<std::string_view> lines = fuzz::Split(text, '\n');
  const std::vector<std::string_view> rules = Words(lines[0], /*keep_empty=*/true);
  const std::vector<std::string_view> commands(lines.begin() + 1,
                                               lines.begin() + std::min<size_t>(lines.size(), 9));
  const std::string name = (control & 8) != 0 ? "default" : "u";
  Acl acl;
  const char* start = kStartingUsers[((control >> 1) & 3) % 3];
  if (*start != '\0') FUZZ_CHECK(acl.SetUser(name, Words(start, false)).empty());

  // What SetUser should do: merge the selectors, apply every rule to a copy of the user.
  const User* existing = acl.Find(name);
  bool expect_ok = false;
  {
    std::vector<std::string> merged;
    size_t open = 0;
    if (MergeSelectorArgs(rules, &merged, &open)) {
      User copy = existing != nullptr ? *existing : User(name);
      std::string error;
      expect_ok = true;
      for (const std::string& r : merged) expect_ok = expect_ok && copy.Apply(r, &error);
    }
  }
  const std::unique_ptr<User> before =
      existing != nullptr ? std::make_unique<User>(*existing) : nullptr;
  const size_t users = acl.users().size();
  const std::string error = acl.SetUser(name, rules);
  FUZZ_CHECK(error.empty() == expect_ok);
  if (!error.empty()) {
    // All or nothing: no user added, the user as it was.
    FUZZ_CHECK(error.rfind("ERR ", 0) == 0);
    FUZZ_CHECK(acl.users().size() == users);
    const User* now = acl.Find(name);
    FUZZ_CHECK((now == nullptr) == (before == nullptr));
    if (now != nullptr) FUZZ_CHECK(now->Describe() == before->Describe());
    return;
  }
  const User* user = acl.Find(name);
  FUZZ_CHECK(user != nullptr);

  // ACL SAVE's text (when it is not refused) rebuilds every user: LoadFile makes fresh users and
  // applies each line's rules one by one.
  std::string unsaveable;
  const std::string saved = acl.Serialize(&unsaveable);
  if (!unsaveable.empty()) {
    FUZZ_CHECK(saved.empty());
    return;
  }
  FUZZ_CHECK(saved == Listing(acl));
  Acl reloaded;
  FUZZ_CHECK(Load(&reloaded, saved).empty());
  FUZZ_CHECK(Listing(reloaded) == saved);
  const User* again = reloaded.Find(name);
  FUZZ_CHECK(again != nullptr && again->Describe() == user->Describe());

  SameDecisions(*user, *again, commands, lines[0].size() + control);
  for (std::string_view line : commands) {
    FUZZ_CHECK((acl.Authenticate(name, line) == nullptr) ==
               (reloaded.Authenticate(name, line) == nullptr));
  }
}

void FileMode(uint8_t control, std::string_view text) {
  Acl acl;
  if ((control & 2) != 0) FUZZ_CHECK(acl.SetUser("u", Words(kStartingUsers[1], false)).empty());
  const std::string before = Listing(acl);
  const std::string error = Load(&acl, std::string(text));
  FUZZ_CHECK(acl.Find("default") != nullptr);
  if (!error.empty()) {
    FUZZ_CHECK(Listing(acl) == before);  // no change to the active rules
    return;
  }
  // A file may hold a user ACL SAVE refuses ("(~x)) +get)": the pattern "x)" in a selector whose
  // last rule ends it); anything saved loads back the same.
  std::string unsaveable;
  const std::string saved = acl.Serialize(&unsaveable);
  if (!unsaveable.empty()) return;
  Acl again;
  FUZZ_CHECK(Load(&again, saved).empty());
  FUZZ_CHECK(again.Serialize(&unsaveable) == saved);
}

}  // namespace
}  // namespace activekv::server::acl

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    activekv::server::acl::SetUserMode(data[0], text);
  } else {
    activekv::server::acl::FileMode(data[0], text);
  }
  return 0;
}
