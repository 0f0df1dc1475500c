// ReplyBuilder: encodes replies in RESP2 or RESP3, byte-identical to Redis 7.0
// (networking.c addReply*). See docs/resp-protocol.md.
//
// Appends to a caller-owned std::string (the connection's output buffer); no other allocation.
// Thread-compatible: one builder per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace activekv::resp {

// Pre-encoded replies that are the same in RESP2 and RESP3.
inline constexpr std::string_view kReplyOk = "+OK\r\n";
inline constexpr std::string_view kReplyPong = "+PONG\r\n";
inline constexpr std::string_view kReplyQueued = "+QUEUED\r\n";
inline constexpr std::string_view kReplyZero = ":0\r\n";
inline constexpr std::string_view kReplyOne = ":1\r\n";
inline constexpr std::string_view kReplyMinusOne = ":-1\r\n";
inline constexpr std::string_view kReplyMinusTwo = ":-2\r\n";
inline constexpr std::string_view kReplyEmptyArray = "*0\r\n";
inline constexpr std::string_view kReplyEmptyBulk = "$0\r\n\r\n";
// A SCAN-family reply with cursor 0 and no element (a missing key).
inline constexpr std::string_view kReplyEmptyScan = "*2\r\n$1\r\n0\r\n*0\r\n";
// Protocol-specific ones: use ReplyBuilder::Null() / NullArray() unless the protocol is known.
inline constexpr std::string_view kReplyNullBulk2 = "$-1\r\n";
inline constexpr std::string_view kReplyNullArray2 = "*-1\r\n";
inline constexpr std::string_view kReplyNull3 = "_\r\n";

// Redis 7.0's text of a double (addReplyDouble; ZSCAN of a skiplist zset): "inf" and "-inf",
// else the "%.17g" text. Writes into `buf` (kDoubleTextMax bytes) and returns a view of it.
inline constexpr size_t kDoubleTextMax = 32;
std::string_view DoubleText(double d, char* buf);

class ReplyBuilder {
 public:
  // `out` must outlive the builder. `protocol` is 2 (RESP2, the default) or 3 (RESP3, after
  // HELLO 3); any other value is treated as 2.
  explicit ReplyBuilder(std::string* out, int protocol = 2) : out_(out) { set_protocol(protocol); }

  void set_protocol(int protocol) { resp3_ = protocol == 3; }
  int protocol() const { return resp3_ ? 3 : 2; }
  std::string* out() const { return out_; }

  // Pre-encoded bytes (e.g. kReplyOk), appended as they are.
  void Raw(std::string_view bytes) { out_->append(bytes); }
  void Ok() { Raw(kReplyOk); }

  // "+<text>\r\n". \r and \n inside `text` become spaces (they would break the framing).
  void SimpleString(std::string_view text);
  // "-<text>\r\n": `text` carries its own code, without the '-': Error("ERR syntax error"),
  // Error("WRONGTYPE Operation against a key holding the wrong kind of value"). \r and \n
  // become spaces, as in Redis's addReplyErrorFormat.
  void Error(std::string_view text);
  // ":<v>\r\n".
  void Integer(int64_t v);
  // "$<len>\r\n<bytes>\r\n" (binary safe).
  void Bulk(std::string_view bytes);
  // A bulk holding the decimal form of `v` (what Redis's addReplyBulkLongLong sends).
  void BulkInteger(int64_t v);
  // The null bulk string: RESP2 "$-1\r\n", RESP3 "_\r\n".
  void Null();
  // The null array: RESP2 "*-1\r\n", RESP3 "_\r\n".
  void NullArray();
  // Aggregate headers; the caller then adds the elements.
  void ArrayLen(size_t n);  // "*<n>\r\n"
  void MapLen(size_t n);    // RESP3 "%<n>\r\n" (n key/value pairs), RESP2 "*<2n>\r\n"
  void SetLen(size_t n);    // RESP3 "~<n>\r\n", RESP2 "*<n>\r\n"
  void PushLen(size_t n);   // RESP3 "><n>\r\n" (pub/sub messages), RESP2 "*<n>\r\n"
  // Redis 7.0 addReplyDouble: RESP3 ",<%.17g>\r\n", RESP2 a bulk of "%.17g" (so 1.1 is sent as
  // "1.1000000000000001"); infinities are "inf" / "-inf".
  void Double(double d);
  // RESP3 "#t\r\n" / "#f\r\n", RESP2 ":1\r\n" / ":0\r\n".
  void Bool(bool b);
  // RESP3 "=<len+4>\r\n<format>:<text>\r\n", RESP2 a bulk of `text` (INFO, CLIENT LIST, ...).
  // `format` is exactly three bytes ("txt" or "mkd"); anything else is sent as "txt".
  void Verbatim(std::string_view text, std::string_view format = "txt");
  // RESP3 "(<digits>\r\n", RESP2 a bulk of `digits`.
  void BigNumber(std::string_view digits);

 private:
  // "<prefix><n>\r\n".
  void Header(char prefix, uint64_t n);
  // "<prefix><text with \r\n mapped to spaces>\r\n".
  void Line(char prefix, std::string_view text);

  std::string* out_;
  bool resp3_ = false;
};

}  // namespace activekv::resp
