#include "topology/endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace activekv::topology {
namespace {

// Debian's Abseil keeps its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW is 0).
absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr size_t kMaxHostNameLength = 253;
constexpr size_t kMaxLabelLength = 63;

absl::Status BadAddress(std::string_view text, absl::string_view detail) {
  return absl::InvalidArgumentError(
      absl::StrCat("bad address '", absl::CHexEscape(AsAbsl(text)), "': ", detail));
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Returns the inet_ntop form of `host` for address family `family`, or "" if it does not parse.
std::string CanonicalIp(int family, const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(family, host.c_str(), buf) != 1) return "";
  char out[INET6_ADDRSTRLEN];
  if (inet_ntop(family, buf, out, sizeof(out)) == nullptr) return "";
  return out;
}

bool IsValidHostName(absl::string_view host) {
  if (host.empty() || host.size() > kMaxHostNameLength) return false;
  for (absl::string_view label : absl::StrSplit(host, '.')) {
    if (label.empty() || label.size() > kMaxLabelLength) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
  }
  return true;
}

}  // namespace

std::string Endpoint::ToString() const {
  if (IsIpv6()) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<Endpoint> ParseEndpoint(std::string_view text) {
  std::string_view host;
  std::string_view port;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return BadAddress(text, "missing ']' after IPv6 address");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return BadAddress(text, "expected [host]:port");
    port = rest.substr(1);
    bracketed = true;
  } else {
    size_t colon = text.find(':');
    if (colon == std::string_view::npos) return BadAddress(text, "expected host:port");
    if (text.find(':', colon + 1) != std::string_view::npos) {
      return BadAddress(text, "IPv6 addresses must be in brackets, e.g. [::1]:7001");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return BadAddress(text, "missing host");
  if (port.empty()) return BadAddress(text, "missing port");

  Endpoint endpoint;
  const std::string host_str(host);
  if (bracketed) {
    endpoint.host = CanonicalIp(AF_INET6, host_str);
    if (endpoint.host.empty()) {
      return BadAddress(text, absl::StrCat("invalid IPv6 address '", AsAbsl(host), "'"));
    }
  } else if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
    endpoint.host = CanonicalIp(AF_INET, host_str);
    if (endpoint.host.empty()) {
      return BadAddress(text, absl::StrCat("invalid IPv4 address '", AsAbsl(host), "'"));
    }
  } else {
    if (!IsValidHostName(AsAbsl(host))) {
      return BadAddress(text, absl::StrCat("invalid host name '", AsAbsl(host), "'"));
    }
    endpoint.host = absl::AsciiStrToLower(AsAbsl(host));
  }
  if (endpoint.host == "0.0.0.0" || endpoint.host == "::") {
    return BadAddress(text,
                      "the unspecified address cannot be connected to; name a reachable address "
                      "such as 127.0.0.1");
  }

  if (!IsDigits(port)) {
    return BadAddress(text, absl::StrCat("port '", AsAbsl(port), "' is not a number"));
  }
  uint32_t port_number = 0;
  if (!absl::SimpleAtoi(AsAbsl(port), &port_number) || port_number < 1 || port_number > 65535) {
    return BadAddress(text, "port must be 1-65535");
  }
  endpoint.port = static_cast<uint16_t>(port_number);
  return endpoint;
}

}  // namespace activekv::topology
