#pragma once

// A network endpoint written as "host:port" in the topology file and on command lines.
//
// Accepted forms:
//   127.0.0.1:7001      IPv4 literal (dotted decimal, no leading zeros)
//   [::1]:7001          IPv6 literal, always in brackets
//   localhost:7001      host name (letters, digits, '-', '.'; labels of 1-63 chars)
// The port is decimal, 1-65535. The unspecified addresses 0.0.0.0 and [::] are rejected: the same
// endpoint is both where a region listens and where clients and peers connect.
//
// Thread-safety: free functions are reentrant; Endpoint is a plain value type.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace activekv::topology {

struct Endpoint {
  // Canonical form: IP literals as inet_ntop prints them (IPv6 compressed, lower case, without
  // brackets), host names in lower case. Two endpoints name the same socket address (as far as
  // can be told without DNS) exactly when host and port compare equal.
  std::string host;
  uint16_t port = 0;

  // "host:port", or "[host]:port" when host is an IPv6 literal. Parses back to *this.
  std::string ToString() const;

  bool IsIpv6() const { return host.find(':') != std::string::npos; }

  friend bool operator==(const Endpoint& a, const Endpoint& b) {
    return a.port == b.port && a.host == b.host;
  }
  friend bool operator!=(const Endpoint& a, const Endpoint& b) { return !(a == b); }
};

// Parses "host:port" (see the top of this file). On failure returns InvalidArgument with a message
// that quotes the input and says what is wrong, e.g.
//   bad address '127.0.0.1': expected host:port
//   bad address '127.0.0.1:0': port must be 1-65535
//   bad address '::1:7001': IPv6 addresses must be in brackets, e.g. [::1]:7001
absl::StatusOr<Endpoint> ParseEndpoint(std::string_view text);

}  // namespace activekv::topology
