#include "backup/s3_xml.h"

#include <cstdint>
#include <cstdlib>

namespace activekv::backup::xml {
namespace {

// Finds the next opening tag named exactly `tag` at or after `from`. Returns the position of '<'
// and sets *content_begin past the '>' and *self_closing. npos when none.
size_t FindOpen(std::string_view xml, std::string_view tag, size_t from, size_t* content_begin,
                bool* self_closing) {
  while (true) {
    const size_t lt = xml.find('<', from);
    if (lt == std::string_view::npos) return lt;
    const size_t name_end = lt + 1 + tag.size();
    if (xml.compare(lt + 1, tag.size(), tag) == 0 && name_end < xml.size()) {
      const char c = xml[name_end];
      if (c == '>' || c == ' ' || c == '/' || c == '\t' || c == '\n' || c == '\r') {
        const size_t gt = xml.find('>', name_end);
        if (gt == std::string_view::npos) return std::string_view::npos;
        *self_closing = xml[gt - 1] == '/';
        *content_begin = gt + 1;
        return lt;
      }
    }
    from = lt + 1;
  }
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

std::optional<std::string> FirstText(std::string_view xml, std::string_view tag) {
  size_t begin = 0;
  bool self_closing = false;
  if (FindOpen(xml, tag, 0, &begin, &self_closing) == std::string_view::npos) return std::nullopt;
  if (self_closing) return std::string();
  const std::string close = "</" + std::string(tag) + ">";
  const size_t end = xml.find(close, begin);
  if (end == std::string_view::npos) return std::nullopt;
  return DecodeEntities(xml.substr(begin, end - begin));
}

std::vector<std::string_view> AllElements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string close = "</" + std::string(tag) + ">";
  size_t from = 0;
  while (true) {
    size_t begin = 0;
    bool self_closing = false;
    if (FindOpen(xml, tag, from, &begin, &self_closing) == std::string_view::npos) break;
    if (self_closing) {
      out.push_back(xml.substr(begin, 0));
      from = begin;
      continue;
    }
    const size_t end = xml.find(close, begin);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(begin, end - begin));
    from = end + close.size();
  }
  return out;
}

std::string DecodeEntities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '&') {
      out.push_back(text[i++]);
      continue;
    }
    const size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out.push_back(text[i++]);
      continue;
    }
    const std::string_view ent = text.substr(i + 1, semi - i - 1);
    bool ok = true;
    if (ent == "amp") {
      out.push_back('&');
    } else if (ent == "lt") {
      out.push_back('<');
    } else if (ent == "gt") {
      out.push_back('>');
    } else if (ent == "quot") {
      out.push_back('"');
    } else if (ent == "apos") {
      out.push_back('\'');
    } else if (ent.size() >= 2 && ent[0] == '#') {
      const bool hex = ent[1] == 'x' || ent[1] == 'X';
      const std::string digits(ent.substr(hex ? 2 : 1));
      char* end = nullptr;
      const uint64_t cp = digits.empty() ? 0 : std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
      ok = !digits.empty() && end != nullptr && *end == '\0' && cp > 0 && cp <= 0x10FFFF;
      if (ok) AppendUtf8(static_cast<uint32_t>(cp), &out);
    } else {
      ok = false;
    }
    if (ok) {
      i = semi + 1;
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace activekv::backup::xml
