#include "region-server/resp/reply.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "region-server/resp/numbers.h"

namespace activekv::resp {

void ReplyBuilder::Header(char prefix, uint64_t n) {
  char buf[kMaxInt64Chars + 3];
  buf[0] = prefix;
  size_t len = 1 + FormatUint64(n, buf + 1);
  buf[len++] = '\r';
  buf[len++] = '\n';
  out_->append(buf, len);
}

void ReplyBuilder::Line(char prefix, std::string_view text) {
  const size_t start = out_->size();
  out_->push_back(prefix);
  out_->append(text);
  if (std::memchr(text.data(), '\r', text.size()) != nullptr ||
      std::memchr(text.data(), '\n', text.size()) != nullptr) {
    for (size_t i = start + 1; i < out_->size(); ++i) {
      char& c = (*out_)[i];
      if (c == '\r' || c == '\n') c = ' ';
    }
  }
  out_->append("\r\n", 2);
}

void ReplyBuilder::SimpleString(std::string_view text) { Line('+', text); }

void ReplyBuilder::Error(std::string_view text) { Line('-', text); }

void ReplyBuilder::Integer(int64_t v) {
  char buf[kMaxInt64Chars + 3];
  buf[0] = ':';
  size_t len = 1 + FormatInt64(v, buf + 1);
  buf[len++] = '\r';
  buf[len++] = '\n';
  out_->append(buf, len);
}

void ReplyBuilder::Bulk(std::string_view bytes) {
  Header('$', bytes.size());
  out_->append(bytes);
  out_->append("\r\n", 2);
}

void ReplyBuilder::BulkInteger(int64_t v) {
  char digits[kMaxInt64Chars];
  Bulk(std::string_view(digits, FormatInt64(v, digits)));
}

void ReplyBuilder::Null() { Raw(resp3_ ? kReplyNull3 : kReplyNullBulk2); }

void ReplyBuilder::NullArray() { Raw(resp3_ ? kReplyNull3 : kReplyNullArray2); }

void ReplyBuilder::ArrayLen(size_t n) { Header('*', n); }

void ReplyBuilder::MapLen(size_t n) {
  if (resp3_) {
    Header('%', n);
  } else {
    Header('*', 2 * static_cast<uint64_t>(n));
  }
}

void ReplyBuilder::SetLen(size_t n) { Header(resp3_ ? '~' : '*', n); }

void ReplyBuilder::PushLen(size_t n) { Header(resp3_ ? '>' : '*', n); }

std::string_view DoubleText(double d, char* buf) {
  // Redis spells infinities itself rather than trusting the libc.
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  // Same text as printf("%.17g"), without locale or snprintf.
  const std::to_chars_result r =
      std::to_chars(buf, buf + kDoubleTextMax, d, std::chars_format::general, 17);
  return std::string_view(buf, static_cast<size_t>(r.ptr - buf));
}

void ReplyBuilder::Double(double d) {
  char buf[kDoubleTextMax];
  const std::string_view text = DoubleText(d, buf);
  if (resp3_) {
    out_->push_back(',');
    out_->append(text);
    out_->append("\r\n", 2);
  } else {
    Bulk(text);
  }
}

void ReplyBuilder::Bool(bool b) {
  if (resp3_) {
    Raw(b ? "#t\r\n" : "#f\r\n");
  } else {
    Raw(b ? kReplyOne : kReplyZero);
  }
}

void ReplyBuilder::Verbatim(std::string_view text, std::string_view format) {
  if (!resp3_) {
    Bulk(text);
    return;
  }
  Header('=', static_cast<uint64_t>(text.size()) + 4);
  out_->append(format.size() == 3 ? format : std::string_view("txt"));
  out_->push_back(':');
  out_->append(text);
  out_->append("\r\n", 2);
}

void ReplyBuilder::BigNumber(std::string_view digits) {
  if (resp3_) {
    Line('(', digits);
  } else {
    Bulk(digits);
  }
}

}  // namespace activekv::resp
