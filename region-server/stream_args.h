#pragma once

// Stream argument parsing and reply helpers shared by the stream commands (Redis 7.0's
// t_stream.c): entry ids, trimming options, the entry reply shape.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crdt/values/stream_value.h"
#include "region-server/command.h"

namespace activekv::server {

inline constexpr std::string_view kErrInvalidStreamId =
    "ERR Invalid stream ID specified as stream command argument";

// Redis's streamGenericParseIDOrReply without the reply: <ms>-<seq>, <ms> (seq `missing_seq`),
// "-" / "+" unless `strict`. With `seq_given` non-null, "<ms>-*" parses and clears it (XADD).
bool ParseStreamId(std::string_view arg, uint64_t missing_seq, bool strict, bool* seq_given,
                   crdt::StreamId* id);
// The same, replying Redis's error when `arg` is not an id.
bool ParseStreamIdOrReply(CommandContext& ctx, std::string_view arg, uint64_t missing_seq,
                          bool strict, crdt::StreamId* id);
// One bound of an interval (streamParseIntervalIDOrReply, then streamIncrID / streamDecrID for
// an exclusive one): "(" before an id excludes it; a missing sequence is 0 for a `start` bound,
// the largest for an end bound. False after replying the error.
bool ParseStreamBoundOrReply(CommandContext& ctx, std::string_view arg, bool start,
                             crdt::StreamId* id);
// Every argument from ctx.args[first] on as a strict id (XDEL, XACK); false after the error.
bool ParseStreamIdsOrReply(CommandContext& ctx, size_t first, std::vector<crdt::StreamId>* ids);
std::string StreamIdText(const crdt::StreamId& id);
// `s` up to its first NUL: what Redis's "%s" of a key or group name shows in an error.
std::string CText(std::string_view s);

// XADD / XTRIM options (streamParseAddOrTrimArgsOrReply).
struct StreamTrimArgs {
  enum class Strategy { kNone, kMaxLen, kMinId };
  Strategy strategy = Strategy::kNone;
  bool approx = false;
  int64_t limit = 0;  // 0: none
  int64_t maxlen = 0;
  crdt::StreamId minid;
  bool nomkstream = false;
  bool id_given = false;
  bool seq_given = true;
  crdt::StreamId id;
};
// Parses from ctx.args[2]; for XADD (`xadd`) stops at the id and returns its index. -1 after
// replying an error.
int ParseStreamTrimArgs(CommandContext& ctx, bool xadd, StreamTrimArgs* out);
// The ids of the entries a trim removes, oldest first (streamTrim). `~` trims only whole
// groups of 100 entries from the head (Redis's stream-node-max-entries, ignoring its byte
// limit), at most `limit` entries.
std::vector<crdt::StreamId> StreamTrimVictims(const crdt::StreamValue& s,
                                              const StreamTrimArgs& args);

// XREAD / XREADGROUP options up to STREAMS (xreadCommand's loop, its errors in its order).
struct XReadArgs {
  int64_t timeout = -1;    // BLOCK ms; -1: not blocking
  int64_t count = 0;       // 0: all
  size_t streams_arg = 0;  // index of the first key
  size_t n = 0;            // keys (each with its id after the keys)
  bool noack = false;
  bool has_group = false;
  std::string_view group;
  std::string_view consumer;
};
// `xreadgroup`: GROUP and NOACK are options (XREAD refuses them with Redis's errors). False after
// replying an error (a missing STREAMS included); XREADGROUP's missing GROUP is the caller's.
bool ParseXReadArgs(CommandContext& ctx, bool xreadgroup, XReadArgs* out);

// Blocks an XREAD / XREADGROUP that found nothing (BlockOrTimeout) on its streams. The command
// run again when a stream may be ready is `args` (the caller's, with XREAD's "$" resolved) with
// a COUNT of 1000 when it gave none: Redis 7.0 serves a woken reader at most that many entries a
// stream (XREAD_BLOCKED_DEFAULT_COUNT).
void BlockXRead(CommandContext& ctx, const XReadArgs& x, std::vector<std::string> args);

// The key's stream: true with `*out` (null when the key does not exist); false after WRONGTYPE.
bool LookupStream(CommandContext& ctx, std::string_view key, const crdt::StreamValue** out);
// The same for a command that needs the key: false after "ERR no such key" or WRONGTYPE.
bool LookupExistingStream(CommandContext& ctx, std::string_view key, const crdt::StreamValue** out);
void SetStreamId(const crdt::StreamId& id, v1::StreamId* out);
void SetStreamMeta(const crdt::StreamMeta& m, v1::StreamMeta* out);
// The wall clock of the current command (unix ms), never negative.
int64_t StreamNowMs(CommandContext& ctx);

// One entry: [id, [field, value, ...]].
void ReplyStreamEntry(CommandContext& ctx, const crdt::StreamId& id,
                      const crdt::StreamValue::Item& item);

// stream_group_family.cc: XINFO GROUPS key, XINFO CONSUMERS key group (the stream exists), and
// the number of groups.
void XInfoGroups(CommandContext& ctx, const crdt::StreamValue& s);
void XInfoConsumers(CommandContext& ctx, const crdt::StreamValue& s);
size_t StreamGroupCount(const crdt::StreamValue& s);
// XINFO STREAM key FULL's "groups" array (pending lists up to `count` entries, 0: all).
void XInfoFullGroups(CommandContext& ctx, const crdt::StreamValue& s, int64_t count);

// RENAME / COPY: `dst` (absent or deleted by the caller) becomes a copy of `src`.
void CopyStream(Region& region, const crdt::StreamValue& src, std::string_view dst);

}  // namespace activekv::server
