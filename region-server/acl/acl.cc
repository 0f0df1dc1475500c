#include "region-server/acl/acl.h"

#include <openssl/sha.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "region-server/glob.h"

namespace activekv::server::acl {
namespace {

constexpr std::string_view kErrSyntax = "Syntax error";
constexpr std::string_view kErrUnknown = "Unknown command or category name in ACL";
constexpr std::string_view kErrAllKeys =
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have "
    "any effect. Try 'resetkeys' to start with an empty list of patterns";
constexpr std::string_view kErrAllChannels =
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not "
    "have any effect. Try 'resetchannels' to start with an empty list of channels";
constexpr std::string_view kErrNoSuchPass =
    "The password you are trying to remove from the user does not exist";
constexpr std::string_view kErrBadHash =
    "The password hash must be exactly 64 characters and contain only lowercase hexadecimal "
    "characters";
constexpr std::string_view kErrFirstArgOfSub =
    "Allowing first-arg of a subcommand is not supported";

bool Fail(std::string_view text, std::string* error) {
  *error = std::string(text);
  return false;
}

bool HasSpaces(std::string_view s) {
  for (char c : s) {
    if (isspace(static_cast<unsigned char>(c)) || c == 0) return true;
  }
  return false;
}

// Arguments separated by spaces, tabs or line ends (Redis splits ACL file lines and selector
// bodies on spaces; a stray CR or tab is trimmed there).
std::vector<std::string_view> SplitSpaces(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\r') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool ValidHash(std::string_view h) {
  if (h.size() != 64) return false;
  for (char c : h) {
    if (!((c >= 'a' && c <= 'f') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// Redis's time_independent_strcmp: equal length hex strings here, compared without early exit.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// lookupCommandBySdsLogic on the ACL table: "cmd" or "container|sub", nothing deeper.
const CommandMeta* LookupRule(std::string_view name) {
  const CommandMetaTable& table = CommandMetaTable::Get();
  const size_t bar = name.find('|');
  if (bar == std::string_view::npos) return table.Find(name);
  if (name.find('|', bar + 1) != std::string_view::npos) return nullptr;
  const CommandMeta* base = table.Find(name.substr(0, bar));
  if (base == nullptr || base->subcommands.empty()) return nullptr;
  return table.Find(name);
}

}  // namespace

std::string HashPassword(std::string_view password) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(password.data()), password.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(SHA256_DIGEST_LENGTH * 2, '0');
  for (size_t i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return out;
}

// ---- Selector ----

void Selector::SetCommand(const CommandMeta& meta, bool allow) {
  bits_[meta.id] = allow;
  if (!allow) all_commands_ = false;
  firstargs_.erase(meta.id);
  for (uint32_t sub : meta.subcommands) {
    bits_[sub] = allow;
  }
}

void Selector::SetCategory(uint32_t category, bool allow) {
  for (const CommandMeta& meta : CommandMetaTable::Get().all()) {
    if (meta.categories & category) SetCommand(meta, allow);
  }
}

bool Selector::Apply(std::string_view op, std::string* error) {
  if (EqualsNoCase(op, "allkeys") || op == "~*") {
    all_keys_ = true;
    keys_.clear();
  } else if (EqualsNoCase(op, "resetkeys")) {
    all_keys_ = false;
    keys_.clear();
  } else if (EqualsNoCase(op, "allchannels") || op == "&*") {
    all_channels_ = true;
    channels_.clear();
  } else if (EqualsNoCase(op, "resetchannels")) {
    all_channels_ = false;
    channels_.clear();
  } else if (EqualsNoCase(op, "allcommands") || EqualsNoCase(op, "+@all")) {
    bits_.set();
    all_commands_ = true;
    firstargs_.clear();
  } else if (EqualsNoCase(op, "nocommands") || EqualsNoCase(op, "-@all")) {
    bits_.reset();
    all_commands_ = false;
    firstargs_.clear();
  } else if (!op.empty() && (op[0] == '~' || op[0] == '%')) {
    if (all_keys_) return Fail(kErrAllKeys, error);
    uint32_t perms = 0;
    size_t offset = 1;
    if (op[0] == '%') {
      for (; offset < op.size(); ++offset) {
        const char c = static_cast<char>(toupper(static_cast<unsigned char>(op[offset])));
        if (c == 'R' && !(perms & kPermRead)) {
          perms |= kPermRead;
        } else if (c == 'W' && !(perms & kPermWrite)) {
          perms |= kPermWrite;
        } else if (op[offset] == '~') {
          ++offset;
          break;
        } else {
          return Fail(kErrSyntax, error);
        }
      }
      // As Redis 7.0: "%~pattern" grants nothing and is refused (accepted here, it was described
      // as "%W~pattern": a reloaded user could write). "%R" is "%R~" (an empty pattern).
      if (perms == 0) return Fail(kErrSyntax, error);
    } else {
      perms = kPermRead | kPermWrite;
    }
    std::string_view pattern = op.substr(std::min(offset, op.size()));
    if (HasSpaces(pattern)) return Fail(kErrSyntax, error);
    bool found = false;
    for (KeyPattern& k : keys_) {
      if (k.pattern == pattern) {
        k.perms |= perms;
        found = true;
      }
    }
    if (!found) keys_.push_back(KeyPattern{perms, std::string(pattern)});
    all_keys_ = false;
  } else if (!op.empty() && op[0] == '&') {
    if (all_channels_) return Fail(kErrAllChannels, error);
    std::string_view pattern = op.substr(1);
    if (HasSpaces(pattern)) return Fail(kErrSyntax, error);
    bool found = false;
    for (const std::string& c : channels_) found = found || c == pattern;
    if (!found) channels_.emplace_back(pattern);
    all_channels_ = false;
  } else if (op.size() >= 2 && op[0] == '+' && op[1] != '@') {
    std::string_view name = op.substr(1);
    const size_t bar = name.rfind('|');
    if (bar == std::string_view::npos) {
      const CommandMeta* meta = LookupRule(name);
      if (meta == nullptr) return Fail(kErrUnknown, error);
      SetCommand(*meta, true);
    } else {
      const CommandMeta* meta = LookupRule(name.substr(0, bar));
      if (meta == nullptr) return Fail(kErrUnknown, error);
      if (!meta->container.empty()) return Fail(kErrFirstArgOfSub, error);
      std::string_view sub = name.substr(bar + 1);
      if (sub.empty()) return Fail(kErrSyntax, error);
      if (!meta->subcommands.empty()) {
        const CommandMeta* full = LookupRule(name);
        if (full == nullptr) return Fail(kErrUnknown, error);
        SetCommand(*full, true);
      } else {
        std::vector<std::string>& allowed = firstargs_[meta->id];
        bool found = false;
        for (const std::string& a : allowed) found = found || EqualsNoCase(a, sub);
        if (!found) allowed.emplace_back(sub);
      }
    }
  } else if (op.size() >= 2 && op[0] == '-' && op[1] != '@') {
    const CommandMeta* meta = LookupRule(op.substr(1));
    if (meta == nullptr) return Fail(kErrUnknown, error);
    SetCommand(*meta, false);
  } else if (op.size() >= 2 && (op[0] == '+' || op[0] == '-') && op[1] == '@') {
    const uint32_t category = CategoryByName(op.substr(2));
    if (category == 0) return Fail(kErrUnknown, error);
    SetCategory(category, op[0] == '+');
  } else {
    return Fail(kErrSyntax, error);
  }
  return true;
}

std::string Selector::DescribeCommands() const {
  // Redis's ACLDescribeSelectorCommandRules: start from +@all or -@all, then greedily the
  // category closest to the remaining difference, then single commands (in our table's order;
  // Redis's is its hash table's, which differs from one redis-server process to the next).
  const bool additive = !bits_[kFutureBit];
  std::string rules = additive ? "-@all " : "+@all ";
  Selector fake(false);
  std::string ignored;
  fake.Apply(additive ? "-@all" : "+@all", &ignored);
  Selector temp(false);
  temp.bits_ = bits_;
  bool applied[kCategoryCount] = {};
  const absl::Span<const CommandMeta> all = CommandMetaTable::Get().all();
  while (true) {
    int best = -1;
    uint64_t mindiff = UINT64_MAX, maxsame = 0;
    for (size_t j = 0; j < kCategoryCount; ++j) {
      if (applied[j]) continue;
      uint64_t on = 0, off = 0;
      for (const CommandMeta& meta : all) {
        if (meta.categories & (1u << j)) (temp.bits_[meta.id] ? on : off)++;
      }
      const uint64_t diff = additive ? off : on;
      const uint64_t same = additive ? on : off;
      if (same > diff && (diff < mindiff || (diff == mindiff && same > maxsame))) {
        best = static_cast<int>(j);
        mindiff = diff;
        maxsame = same;
      }
    }
    if (best < 0) break;
    fake.SetCategory(1u << best, additive);
    temp.SetCategory(1u << best, !additive);
    absl::StrAppend(&rules, additive ? "+@" : "-@",
                    std::string(CategoryName(static_cast<size_t>(best))), " ");
    applied[best] = true;
  }
  for (const CommandMeta& meta : all) {
    const bool user = bits_[meta.id];
    if (user != fake.bits_[meta.id]) {
      absl::StrAppend(&rules, user ? "+" : "-", std::string(meta.fullname), " ");
      fake.SetCommand(meta, user);
    }
    if (!user) {
      auto it = firstargs_.find(meta.id);
      if (it != firstargs_.end()) {
        for (const std::string& a : it->second) {
          absl::StrAppend(&rules, "+", std::string(meta.fullname), "|", a, " ");
        }
      }
    }
  }
  rules.pop_back();
  return rules;
}

std::string Selector::DescribeKeys(Form form) const {
  if (all_keys_) return "~*";
  std::string out;
  for (const KeyPattern& k : keys_) {
    if (!out.empty()) out += " ";
    if (k.perms == (kPermRead | kPermWrite)) {
      out += form == Form::kFile && k.pattern == "*" ? "%RW~" : "~";
    } else {
      out += k.perms == kPermRead ? "%R~" : "%W~";
    }
    out += k.pattern;
  }
  return out;
}

std::string Selector::DescribeChannels() const {
  if (all_channels_) return "&*";
  std::string out;
  for (const std::string& c : channels_) absl::StrAppend(&out, out.empty() ? "" : " ", "&", c);
  return out;
}

std::string Selector::Describe(Form form) const {
  // ACL LIST's order: keys, channels (a list of them after "resetchannels"), commands.
  std::string out = DescribeKeys(form);
  if (!out.empty()) out += " ";
  if (!all_channels_) out += "resetchannels ";
  const std::string channels = DescribeChannels();
  if (!channels.empty()) absl::StrAppend(&out, channels, " ");
  return out + DescribeCommands();
}

bool Selector::ChannelAllowed(std::string_view channel, bool literal) const {
  if (all_channels_) return true;
  for (const std::string& c : channels_) {
    if (literal ? c == channel : GlobMatch(c, channel)) return true;
  }
  return false;
}

Verdict Selector::Check(const CommandMeta& meta, absl::Span<const std::string_view> args,
                        const std::vector<KeyRef>& keys, size_t* pos) const {
  if (!all_commands_ && !(meta.flags & kMetaNoAuth) && !bits_[meta.id]) {
    auto it = firstargs_.find(meta.id);
    if (args.size() < 2 || it == firstargs_.end()) return Verdict::kCommand;
    bool match = false;
    for (const std::string& a : it->second) match = match || EqualsNoCase(a, args[1]);
    if (!match) return Verdict::kCommand;
  }
  if (!all_keys_) {
    for (const KeyRef& key : keys) {
      uint32_t need = 0;
      if (key.flags & kKeyAccess) need |= kPermRead;
      if (key.flags & (kKeyInsert | kKeyDelete | kKeyUpdate)) need |= kPermWrite;
      bool ok = false;
      for (const KeyPattern& k : keys_) {
        if ((k.perms & need) == need && GlobMatch(k.pattern, args[key.pos])) {
          ok = true;
          break;
        }
      }
      if (!ok) {
        *pos = key.pos;
        return Verdict::kKey;
      }
    }
  }
  if (meta.channels != Channels::kNone) {
    const bool literal = meta.channels == Channels::kEveryLiteral;
    const size_t end =
        meta.channels == Channels::kFirst ? std::min<size_t>(2, args.size()) : args.size();
    for (size_t j = 1; j < end; ++j) {
      if (!ChannelAllowed(args[j], literal)) {
        *pos = j;
        return Verdict::kChannel;
      }
    }
  }
  return Verdict::kOk;
}

// ---- User ----

User::User(std::string n) : name(std::move(n)) { selectors.emplace_back(true); }

bool User::Apply(std::string_view op, std::string* error) {
  if (op.empty()) return true;
  if (EqualsNoCase(op, "on")) {
    enabled = true;
  } else if (EqualsNoCase(op, "off")) {
    enabled = false;
  } else if (EqualsNoCase(op, "skip-sanitize-payload")) {
    sanitize = 1;
  } else if (EqualsNoCase(op, "sanitize-payload")) {
    sanitize = 2;
  } else if (EqualsNoCase(op, "nopass")) {
    nopass = true;
    passwords.clear();
  } else if (EqualsNoCase(op, "resetpass")) {
    nopass = false;
    passwords.clear();
  } else if (op[0] == '>' || op[0] == '#' || op[0] == '<' || op[0] == '!') {
    // >password / #hash add, <password / !hash remove: either way by the SHA-256 hex.
    const bool clear = op[0] == '>' || op[0] == '<';
    if (!clear && !ValidHash(op.substr(1))) return Fail(kErrBadHash, error);
    const std::string hash = clear ? HashPassword(op.substr(1)) : std::string(op.substr(1));
    auto it = std::find(passwords.begin(), passwords.end(), hash);
    if (op[0] == '>' || op[0] == '#') {
      if (it == passwords.end()) passwords.push_back(hash);
      nopass = false;
    } else {
      if (it == passwords.end()) return Fail(kErrNoSuchPass, error);
      passwords.erase(it);
    }
  } else if (op[0] == '(' && op.back() == ')') {
    Selector s(false);
    for (std::string_view rule : SplitSpaces(op.substr(1, op.size() - 2))) {
      if (!s.Apply(rule, error)) return false;
    }
    selectors.push_back(std::move(s));
  } else if (EqualsNoCase(op, "clearselectors")) {
    selectors.resize(1, Selector(true));
  } else if (EqualsNoCase(op, "reset")) {
    std::string ignored;
    for (std::string_view r : {"resetpass", "resetkeys", "resetchannels", "off", "sanitize-payload",
                               "clearselectors", "-@all"}) {
      Apply(r, &ignored);
    }
  } else {
    return selectors[0].Apply(op, error);
  }
  return true;
}

std::vector<std::string_view> User::Flags() const {
  std::vector<std::string_view> out = {enabled ? "on" : "off"};
  if (nopass) out.push_back("nopass");
  if (sanitize == 1) out.push_back("skip-sanitize-payload");
  if (sanitize == 2) out.push_back("sanitize-payload");
  return out;
}

std::string User::Describe(Form form) const {
  std::string out;
  for (std::string_view f : Flags()) absl::StrAppend(&out, std::string(f), " ");
  for (const std::string& p : passwords) absl::StrAppend(&out, "#", p, " ");
  for (const Selector& s : selectors) {
    if (s.root()) {
      out += s.Describe(form);
    } else {
      absl::StrAppend(&out, " (", s.Describe(form), ")");
    }
  }
  return out;
}

bool User::PasswordMatches(std::string_view password) const {
  if (nopass) return true;
  const std::string hash = HashPassword(password);
  bool match = false;
  for (const std::string& p : passwords) match = ConstantTimeEquals(hash, p) || match;
  return match;
}

Verdict User::Check(const CommandMeta& meta, absl::Span<const std::string_view> args,
                    size_t* pos) const {
  std::vector<KeyRef> keys;
  if (meta.has_keys) CommandMetaTable::GetKeys(meta, args, &keys);
  Verdict relevant = Verdict::kCommand;
  size_t last = 0;
  for (const Selector& s : selectors) {
    size_t at = 0;
    const Verdict v = s.Check(meta, args, keys, &at);
    if (v == Verdict::kOk) return v;
    if (v > relevant || (v == relevant && at > last)) {
      relevant = v;
      last = at;
    }
  }
  *pos = last;
  return relevant;
}

bool User::AllowsFutureCommands() const {
  for (const Selector& s : selectors) {
    if (s.future_commands()) return true;
  }
  return false;
}

bool User::AllChannels() const {
  for (const Selector& s : selectors) {
    if (s.all_channels()) return true;
  }
  return false;
}

bool User::ChannelAllowed(std::string_view channel, bool pattern) const {
  for (const Selector& s : selectors) {
    if (s.ChannelAllowed(channel, pattern)) return true;
  }
  return false;
}

bool MergeSelectorArgs(absl::Span<const std::string_view> args, std::vector<std::string>* out,
                       size_t* open) {
  out->clear();
  std::string selector;
  bool in = false;
  for (size_t j = 0; j < args.size(); ++j) {
    std::string_view op = args[j];
    if (!op.empty() && op[0] == '(' && op.back() != ')') {
      selector = std::string(op);
      *open = j;
      in = true;
      continue;
    }
    if (in) {
      selector.append(" ").append(op);
      if (!op.empty() && op.back() == ')') {
        in = false;
        out->push_back(selector);
      }
      continue;
    }
    out->emplace_back(op);
  }
  return !in;
}

// ---- Acl ----

namespace {
std::unique_ptr<User> DefaultUser() {
  auto u = std::make_unique<User>("default");
  std::string ignored;
  for (std::string_view r : {"+@all", "~*", "&*", "on", "nopass"}) u->Apply(r, &ignored);
  return u;
}
}  // namespace

Acl::Acl() { users_["default"] = DefaultUser(); }

const User* Acl::Find(std::string_view name) const {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : it->second.get();
}

std::string Acl::SetUser(std::string_view name, absl::Span<const std::string_view> rules) {
  if (HasSpaces(name)) return "ERR Usernames can't contain spaces or null characters";
  std::vector<std::string> merged;
  size_t open = 0;
  if (!MergeSelectorArgs(rules, &merged, &open)) {
    return absl::StrCat("ERR Unmatched parenthesis in acl selector starting at '",
                        std::string(rules[open]), "'.");
  }
  auto it = users_.find(name);
  User temp = it != users_.end() ? *it->second : User(std::string(name));
  std::string error;
  for (const std::string& rule : merged) {
    if (!temp.Apply(rule, &error)) {
      return absl::StrCat("ERR Error in ACL SETUSER modifier '", rule, "': ", error);
    }
  }
  if (it == users_.end()) {
    users_[std::string(name)] = std::make_unique<User>(std::move(temp));
  } else {
    *it->second = std::move(temp);
  }
  return "";
}

std::vector<std::unique_ptr<User>> Acl::DelUsers(absl::Span<const std::string_view> names) {
  std::vector<std::unique_ptr<User>> gone;
  for (std::string_view n : names) {
    auto it = users_.find(n);
    if (it == users_.end() || n == "default") continue;
    gone.push_back(std::move(it->second));
    users_.erase(it);
  }
  return gone;
}

void Acl::SetRequirePass(std::string_view password) {
  std::string ignored;
  User* u = default_user();
  u->Apply("resetpass", &ignored);
  if (password.empty()) {
    u->Apply("nopass", &ignored);
  } else {
    u->Apply(">" + std::string(password), &ignored);
  }
}

const User* Acl::Authenticate(std::string_view name, std::string_view password) const {
  const User* u = Find(name);
  if (u == nullptr || !u->enabled || !u->PasswordMatches(password)) return nullptr;
  return u;
}

namespace {

// The rules of one ACL file line (after "user <name>"), applied to `u` in order; each problem goes
// to `error` as ": text. " (LoadFile prefixes the file and line).
void ApplyFileRules(absl::Span<const std::string_view> rules, User* u,
                    absl::FunctionRef<void(const std::string&)> error) {
  std::vector<std::string> merged;
  size_t open = 0;
  if (!MergeSelectorArgs(rules, &merged, &open)) {
    error(std::string(": Unmatched parenthesis in selector definition."));
  }
  std::string text;
  for (const std::string& rule : merged) {
    if (!u->Apply(rule, &text)) error(absl::StrCat(": ", text, ". "));
  }
}

}  // namespace

std::string Acl::LoadFile(const std::string& path, std::vector<std::unique_ptr<User>>* replaced) {
  std::ifstream in(path);
  if (!in) {
    return absl::StrCat("Error loading ACLs, opening file '", path, "': ", strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  std::map<std::string, std::unique_ptr<User>, std::less<>> loaded;
  std::string errors;
  int linenum = 0;
  const std::string all = text.str();
  size_t from = 0;
  while (from <= all.size()) {
    size_t nl = all.find('\n', from);
    if (nl == std::string::npos) nl = all.size();
    std::string_view line(all.data() + from, nl - from);
    from = nl + 1;
    ++linenum;
    std::vector<std::string_view> argv = SplitSpaces(line);
    if (argv.empty()) continue;
    if (argv.size() < 2 || argv[0] != "user") {
      absl::StrAppend(&errors, path, ":", linenum,
                      " should start with user keyword followed by the username. ");
      continue;
    }
    if (loaded.count(argv[1]) > 0) {
      absl::StrAppend(&errors, "WARNING: Duplicate user '", std::string(argv[1]),
                      "' found on line ", linenum, ". ");
      continue;
    }
    auto u = std::make_unique<User>(std::string(argv[1]));
    ApplyFileRules(absl::MakeConstSpan(argv).subspan(2), u.get(), [&](const std::string& error) {
      absl::StrAppend(&errors, path, ":", linenum, error);
    });
    loaded[std::string(argv[1])] = std::move(u);
  }
  if (!errors.empty()) {
    return errors +
           "WARNING: ACL errors detected, no change to the previously active ACL rules "
           "was performed";
  }
  // The default user stays the same object (every unauthenticated client points at it).
  std::unique_ptr<User> def = std::move(users_["default"]);
  auto d = loaded.find("default");
  *def = d != loaded.end() ? std::move(*d->second) : std::move(*DefaultUser());
  if (d != loaded.end()) loaded.erase(d);
  for (auto& [name, user] : users_) {
    if (user != nullptr) replaced->push_back(std::move(user));
  }
  users_ = std::move(loaded);
  users_["default"] = std::move(def);
  return "";
}

std::string Acl::Serialize(std::string* error) const {
  std::string out;
  for (const auto& [name, user] : users_) {
    const std::string described = user->Describe(Form::kFile);
    // What LoadFile will make of the line.
    User again(name);
    bool applied = true;
    ApplyFileRules(SplitSpaces(described), &again, [&](const std::string&) { applied = false; });
    if (!applied || again.Describe(Form::kFile) != described) {
      *error = absl::StrCat(
          "user '", name,
          "' has a rule an ACL file cannot hold (a blank in a command's first argument, or a "
          "rule ending with ')' inside a selector): ",
          described);
      return "";
    }
    absl::StrAppend(&out, "user ", name, " ", described, "\n");
  }
  return out;
}

void Acl::Log(Verdict reason, std::string_view context, std::string_view object,
              std::string_view username, int64_t now_ms, std::string client_info) {
  // Redis's addACLLogEntry: an entry like one of the last ten within 60 s is counted again.
  size_t scanned = 0;
  for (auto it = log_.begin(); it != log_.end() && scanned < 10; ++it, ++scanned) {
    if (it->reason == reason && it->context == context && it->object == object &&
        it->username == username && std::abs(it->ctime_ms - now_ms) <= 60000) {
      LogEntry e = std::move(*it);
      log_.erase(it);
      ++e.count;
      e.ctime_ms = now_ms;
      e.client_info = std::move(client_info);
      log_.push_front(std::move(e));
      return;
    }
  }
  LogEntry e;
  e.reason = reason;
  e.context = std::string(context);
  e.object = std::string(object);
  e.username = std::string(username);
  e.ctime_ms = now_ms;
  e.client_info = std::move(client_info);
  log_.push_front(std::move(e));
  while (log_.size() > log_max_len) log_.pop_back();
}

}  // namespace activekv::server::acl
