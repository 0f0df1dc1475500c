// SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO LCS TOUCH, with Redis 7.0's replies
// and error order (bitops.c, t_string.c lcsCommand, db.c touchCommand). The bit arithmetic is in
// bit_ops.h. Every write is a whole-value write of the resulting string (as SETRANGE): CRDT
// semantics in docs/crdt-semantics.md ("Strings").
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "crdt/redis_number.h"
#include "region-server/bit_ops.h"
#include "region-server/command.h"
#include "region-server/errors.h"
#include "region-server/region.h"
#include "region-server/server.h"

namespace activekv::server {
namespace {

using v1::ExpiryChange;

// Redis compares options with strcasecmp, which stops at a NUL byte of the argument.
bool OptionIs(std::string_view arg, std::string_view name) {
  return EqualsIgnoreCase(arg.substr(0, arg.find('\0')), name);
}

uint64_t MaxBytes(CommandContext& ctx) { return ctx.server->config().proto_max_bulk_len; }

bool ParseInt(CommandContext& ctx, std::string_view arg, int64_t* out) {
  if (crdt::ParseRedisInt(arg, out)) return true;
  ctx.reply->Error(kErrNotInteger);
  return false;
}

// Writes `value`, the new content of the string at `key` (`existed`: the key was visible before
// the command), unless it is what the key already holds. The expiry is kept, as SETRANGE does.
void WriteString(CommandContext& ctx, std::string_view key, bool existed, std::string_view old,
                 const std::string& value) {
  if (existed && value == old) return;
  if (!existed) ctx.region->PrepareCreate(key);
  ctx.region->NameEvents("setbit");
  ctx.region->EmitSet(key, value, ExpiryChange::KEEP);
}

void SetBit(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  uint64_t offset;
  if (!bits::ParseBitOffset(ctx.args[2], 0, MaxBytes(ctx), &offset)) {
    ctx.reply->Error(kErrBitOffset);
    return;
  }
  int64_t on;
  if (!crdt::ParseRedisInt(ctx.args[3], &on) || (on & ~int64_t{1}) != 0) {
    ctx.reply->Error(kErrBitValue);
    return;
  }
  const crdt::Entry* e;
  if (!LookupOfType(ctx, key, crdt::ValueType::kString, &e)) return;
  std::string_view old = e == nullptr ? std::string_view() : ctx.region->ValueOf(*e);
  std::string value(old);
  if (value.size() <= offset >> 3) value.resize((offset >> 3) + 1, '\0');
  int previous = bits::GetBit(value, offset);
  char& byte = value[offset >> 3];
  uint8_t mask = static_cast<uint8_t>(1u << (7 - (offset & 7)));
  byte = static_cast<char>(on ? (static_cast<uint8_t>(byte) | mask)
                              : (static_cast<uint8_t>(byte) & ~mask));
  WriteString(ctx, key, e != nullptr, old, value);
  ctx.reply->Integer(previous);
}

void GetBit(CommandContext& ctx) {
  uint64_t offset;
  if (!bits::ParseBitOffset(ctx.args[2], 0, MaxBytes(ctx), &offset)) {
    ctx.reply->Error(kErrBitOffset);
    return;
  }
  const crdt::Entry* e;
  if (!LookupOfType(ctx, ctx.args[1], crdt::ValueType::kString, &e)) return;
  ctx.reply->Integer(e == nullptr ? 0 : bits::GetBit(ctx.region->ValueOf(*e), offset));
}

// "BYTE" or "BIT" (a syntax error otherwise).
bool ParseUnit(CommandContext& ctx, std::string_view arg, bool* in_bits) {
  if (OptionIs(arg, "bit")) {
    *in_bits = true;
  } else if (OptionIs(arg, "byte")) {
    *in_bits = false;
  } else {
    ctx.reply->Error(kErrSyntax);
    return false;
  }
  return true;
}

// Redis 7.0 looks the key up before it parses the range: a missing key counts 0 whatever the
// arguments.
void BitCount(CommandContext& ctx) {
  const crdt::Entry* e;
  if (!LookupOfType(ctx, ctx.args[1], crdt::ValueType::kString, &e)) return;
  if (e == nullptr) {
    ctx.reply->Raw(resp::kReplyZero);
    return;
  }
  std::string_view str = ctx.region->ValueOf(*e);
  size_t argc = ctx.args.size();
  bits::Range range;
  if (argc == 4 || argc == 5) {
    if (!ParseInt(ctx, ctx.args[2], &range.start) || !ParseInt(ctx, ctx.args[3], &range.end)) {
      return;
    }
    // An empty negative range counts 0 before the unit is even looked at.
    if (range.start < 0 && range.end < 0 && range.start > range.end) {
      ctx.reply->Raw(resp::kReplyZero);
      return;
    }
    if (argc == 5 && !ParseUnit(ctx, ctx.args[4], &range.in_bits)) return;
  } else if (argc != 2) {
    ctx.reply->Error(kErrSyntax);
    return;
  }
  ctx.reply->Integer(bits::CountInRange(str, range));
}

// The bit is checked first, then a missing key answers before the range is parsed.
void BitPos(CommandContext& ctx) {
  int64_t bit;
  if (!ParseInt(ctx, ctx.args[2], &bit)) return;
  if (bit != 0 && bit != 1) {
    ctx.reply->Error(kErrBitPosBit);
    return;
  }
  const crdt::Entry* e;
  if (!LookupOfType(ctx, ctx.args[1], crdt::ValueType::kString, &e)) return;
  if (e == nullptr) {
    ctx.reply->Integer(bit ? -1 : 0);
    return;
  }
  std::string_view str = ctx.region->ValueOf(*e);
  size_t argc = ctx.args.size();
  bits::Range range;
  bool end_given = false;
  if (argc >= 4 && argc <= 6) {
    if (!ParseInt(ctx, ctx.args[3], &range.start)) return;
    if (argc == 6 && !ParseUnit(ctx, ctx.args[5], &range.in_bits)) return;
    if (argc >= 5) {
      if (!ParseInt(ctx, ctx.args[4], &range.end)) return;
      end_given = true;
    }
  } else if (argc != 3) {
    ctx.reply->Error(kErrSyntax);
    return;
  }
  ctx.reply->Integer(bits::FirstBit(str, static_cast<int>(bit), range, end_given));
}

// BITOP op destkey key [key ...]: the destination is SET (any type replaced, no expiry) to the
// result, or deleted when the result is empty (every source missing or empty).
void BitOpCommand(CommandContext& ctx) {
  std::string_view name = ctx.args[1];
  bits::BitOp op;
  if (OptionIs(name, "and")) {
    op = bits::BitOp::kAnd;
  } else if (OptionIs(name, "or")) {
    op = bits::BitOp::kOr;
  } else if (OptionIs(name, "xor")) {
    op = bits::BitOp::kXor;
  } else if (OptionIs(name, "not")) {
    op = bits::BitOp::kNot;
  } else {
    ctx.reply->Error(kErrSyntax);
    return;
  }
  if (op == bits::BitOp::kNot && ctx.args.size() != 4) {
    ctx.reply->Error(kErrBitOpNot);
    return;
  }
  std::vector<std::string_view> sources;
  sources.reserve(ctx.args.size() - 3);
  for (size_t i = 3; i < ctx.args.size(); ++i) {
    const crdt::Entry* e;
    if (!LookupOfType(ctx, ctx.args[i], crdt::ValueType::kString, &e)) return;
    if (e == nullptr) ctx.region->NotifyKeyMiss(ctx.args[i]);  // Redis: lookupKeyRead
    sources.push_back(e == nullptr ? std::string_view() : ctx.region->ValueOf(*e));
  }
  std::string result = bits::ApplyBitOp(op, sources);
  std::string_view dest = ctx.args[2];
  if (!result.empty()) {
    ctx.region->EmitSet(dest, result, ExpiryChange::PERSIST);
  } else if (ctx.region->Lookup(dest) != nullptr) {
    ctx.region->EmitDelete(dest);
  }
  ctx.reply->Integer(static_cast<int64_t>(result.size()));
}

struct FieldOp {
  enum Kind { kGet, kSet, kIncrBy } kind;
  bits::FieldType type;
  uint64_t offset;
  int64_t arg;
  bits::Overflow overflow;
};

// BITFIELD / BITFIELD_RO (bitfieldGeneric): every subcommand is parsed first; then GETs alone
// read the key (a missing one is not created), while any SET or INCRBY makes the string long
// enough for the farthest field written (creating it, even when every write fails under
// OVERFLOW FAIL) and writes the final value once.
void BitfieldGeneric(CommandContext& ctx, bool ro_command) {
  std::vector<FieldOp> ops;
  bits::Overflow overflow = bits::Overflow::kWrap;
  bool writes = false;
  uint64_t highest_bit = 0;
  for (size_t j = 2; j < ctx.args.size(); ++j) {
    size_t more = ctx.args.size() - j - 1;
    std::string_view sub = ctx.args[j];
    FieldOp op;
    if (OptionIs(sub, "get") && more >= 2) {
      op.kind = FieldOp::kGet;
    } else if (OptionIs(sub, "set") && more >= 3) {
      op.kind = FieldOp::kSet;
    } else if (OptionIs(sub, "incrby") && more >= 3) {
      op.kind = FieldOp::kIncrBy;
    } else if (OptionIs(sub, "overflow") && more >= 1) {
      std::string_view mode = ctx.args[++j];
      if (OptionIs(mode, "wrap")) {
        overflow = bits::Overflow::kWrap;
      } else if (OptionIs(mode, "sat")) {
        overflow = bits::Overflow::kSat;
      } else if (OptionIs(mode, "fail")) {
        overflow = bits::Overflow::kFail;
      } else {
        ctx.reply->Error(kErrBitfieldOverflow);
        return;
      }
      continue;
    } else {
      ctx.reply->Error(kErrSyntax);
      return;
    }
    if (!bits::ParseFieldType(ctx.args[j + 1], &op.type)) {
      ctx.reply->Error(kErrBitfieldType);
      return;
    }
    if (!bits::ParseBitOffset(ctx.args[j + 2], op.type.bits, MaxBytes(ctx), &op.offset)) {
      ctx.reply->Error(kErrBitOffset);
      return;
    }
    op.arg = 0;
    if (op.kind != FieldOp::kGet) {
      writes = true;
      highest_bit = std::max(highest_bit, op.offset + op.type.bits - 1);
      if (!ParseInt(ctx, ctx.args[j + 3], &op.arg)) return;
    }
    op.overflow = overflow;
    ops.push_back(op);
    j += op.kind == FieldOp::kGet ? 2 : 3;
  }
  std::string_view key = ctx.args[1];
  if (writes && ro_command) {
    ctx.reply->Error(kErrBitfieldRo);
    return;
  }
  const crdt::Entry* e;
  if (!LookupOfType(ctx, key, crdt::ValueType::kString, &e)) return;
  std::string_view old = e == nullptr ? std::string_view() : ctx.region->ValueOf(*e);
  if (!writes) {
    if (e == nullptr) ctx.region->NotifyKeyMiss(key);  // Redis reads it with lookupKeyRead
    ctx.reply->ArrayLen(ops.size());
    for (const FieldOp& op : ops) ctx.reply->Integer(bits::GetField(old, op.offset, op.type));
    return;
  }
  std::string value(old);
  if (value.size() <= highest_bit >> 3) value.resize((highest_bit >> 3) + 1, '\0');
  ctx.reply->ArrayLen(ops.size());
  size_t changes = 0;
  for (const FieldOp& op : ops) {
    if (op.kind == FieldOp::kGet) {
      ctx.reply->Integer(bits::GetField(value, op.offset, op.type));
      continue;
    }
    int64_t reply;
    if (bits::UpdateField(&value, op.offset, op.type, op.arg, op.kind == FieldOp::kIncrBy,
                          op.overflow, &reply)) {
      ctx.reply->Integer(reply);
      ++changes;
    } else {
      ctx.reply->Null();
    }
  }
  if (changes == 0) {
    // Redis creates the key ("new") but notifies "setbit" only for a write that was made.
    if (e == nullptr) ctx.region->Notify(kNotifyNew, "new", key);
    if (e != nullptr && value == old) return;
    ctx.region->MuteEvents(true);
    if (e == nullptr) ctx.region->PrepareCreate(key);
    ctx.region->EmitSet(key, value, ExpiryChange::KEEP);
    ctx.region->MuteEvents(false);
    return;
  }
  WriteString(ctx, key, e != nullptr, old, value);
}

void Bitfield(CommandContext& ctx) { BitfieldGeneric(ctx, false); }
void BitfieldRo(CommandContext& ctx) { BitfieldGeneric(ctx, true); }

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]. Missing keys are empty strings.
void LcsCommand(CommandContext& ctx) {
  const crdt::Entry* ea = ctx.region->Lookup(ctx.args[1]);
  const crdt::Entry* eb = ctx.region->Lookup(ctx.args[2]);
  if ((ea != nullptr && ctx.region->TypeOf(*ea) != crdt::ValueType::kString) ||
      (eb != nullptr && ctx.region->TypeOf(*eb) != crdt::ValueType::kString)) {
    ctx.reply->Error(kErrLcsKeys);
    return;
  }
  std::string_view a = ea == nullptr ? std::string_view() : ctx.region->ValueOf(*ea);
  std::string_view b = eb == nullptr ? std::string_view() : ctx.region->ValueOf(*eb);
  bool idx = false, len = false, with_match_len = false;
  int64_t min_match_len = 0;
  for (size_t j = 3; j < ctx.args.size(); ++j) {
    std::string_view opt = ctx.args[j];
    bool more = j + 1 < ctx.args.size();
    if (OptionIs(opt, "idx")) {
      idx = true;
    } else if (OptionIs(opt, "len")) {
      len = true;
    } else if (OptionIs(opt, "withmatchlen")) {
      with_match_len = true;
    } else if (OptionIs(opt, "minmatchlen") && more) {
      if (!ParseInt(ctx, ctx.args[++j], &min_match_len)) return;
      if (min_match_len < 0) min_match_len = 0;
    } else {
      ctx.reply->Error(kErrSyntax);
      return;
    }
  }
  if (idx && len) {
    ctx.reply->Error(kErrLcsLenAndIdx);
    return;
  }
  constexpr uint64_t kMaxLen = std::numeric_limits<uint32_t>::max() - 1;
  if (a.size() >= kMaxLen || b.size() >= kMaxLen) {
    ctx.reply->Error(kErrLcsTooLong);
    return;
  }
  if (bits::LcsTableBytes(a.size(), b.size()) > MaxBytes(ctx)) {
    ctx.reply->Error(kErrLcsMemory);
    return;
  }
  bits::LcsResult r = bits::Lcs(a, b, !idx && !len, idx, min_match_len);
  if (idx) {
    resp::ReplyBuilder& out = *ctx.reply;
    out.MapLen(2);
    out.Bulk("matches");
    out.ArrayLen(r.matches.size());
    for (const bits::LcsMatch& m : r.matches) {
      out.ArrayLen(with_match_len ? 3 : 2);
      out.ArrayLen(2);
      out.Integer(m.a_start);
      out.Integer(m.a_end);
      out.ArrayLen(2);
      out.Integer(m.b_start);
      out.Integer(m.b_end);
      if (with_match_len) out.Integer(m.len);
    }
    out.Bulk("len");
    out.Integer(r.len);
  } else if (len) {
    ctx.reply->Integer(r.len);
  } else {
    ctx.reply->Bulk(r.text);
  }
}

// TOUCH: the number of the given keys that exist (a key given twice counts twice).
void Touch(CommandContext& ctx) {
  int64_t n = 0;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    if (ctx.region->Lookup(ctx.args[i]) != nullptr) ++n;
  }
  ctx.reply->Integer(n);
}

}  // namespace

void RegisterBitFamily(CommandTable* t) {
  constexpr uint32_t kW = kWrite | kDenyOom;
  t->Register({"setbit", 4, kW, 1, 1, 1, SetBit, "bitmap",
               "Sets or clears the bit at offset in the string value stored at key", "2.2.0"});
  t->Register({"getbit", 3, kReadOnly | kFast, 1, 1, 1, GetBit, "bitmap",
               "Returns the bit value at offset in the string value stored at key", "2.2.0"});
  t->Register({"bitcount", -2, kReadOnly, 1, 1, 1, BitCount, "bitmap", "Count set bits in a string",
               "2.6.0"});
  t->Register({"bitpos", -3, kReadOnly, 1, 1, 1, BitPos, "bitmap",
               "Find first bit set or clear in a string", "2.8.7"});
  t->Register({"bitop", -4, kW, 2, -1, 1, BitOpCommand, "bitmap",
               "Perform bitwise operations between strings", "2.6.0"});
  t->Register({"bitfield", -2, kW, 1, 1, 1, Bitfield, "bitmap",
               "Perform arbitrary bitfield integer operations on strings", "3.2.0"});
  t->Register({"bitfield_ro", -2, kReadOnly | kFast, 1, 1, 1, BitfieldRo, "bitmap",
               "Perform arbitrary bitfield integer operations on strings. Read-only variant of "
               "BITFIELD",
               "6.0.0"});
  t->Register({"lcs", -3, kReadOnly, 1, 2, 1, LcsCommand, "string", "Find longest common substring",
               "7.0.0"});
  t->Register({"touch", -2, kReadOnly | kFast, 1, -1, 1, Touch, "generic",
               "Alters the last access time of a key(s). Returns the number of existing keys "
               "specified.",
               "3.2.1"});
}

}  // namespace activekv::server
