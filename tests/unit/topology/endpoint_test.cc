#include "topology/endpoint.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace activekv::topology {
namespace {

std::string ErrorOf(std::string_view text) {
  absl::StatusOr<Endpoint> endpoint = ParseEndpoint(text);
  EXPECT_FALSE(endpoint.ok()) << text << " parsed as " << endpoint->ToString();
  EXPECT_EQ(endpoint.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(endpoint.status().message());
}

TEST(EndpointTest, ParsesIpv4HostAndPort) {
  absl::StatusOr<Endpoint> endpoint = ParseEndpoint("127.0.0.1:7001");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->host, "127.0.0.1");
  EXPECT_EQ(endpoint->port, 7001);
  EXPECT_FALSE(endpoint->IsIpv6());
  EXPECT_EQ(endpoint->ToString(), "127.0.0.1:7001");
}

TEST(EndpointTest, ParsesBracketedIpv6AndPrintsItInBrackets) {
  absl::StatusOr<Endpoint> endpoint = ParseEndpoint("[::1]:7001");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->host, "::1");
  EXPECT_TRUE(endpoint->IsIpv6());
  EXPECT_EQ(endpoint->ToString(), "[::1]:7001");
}

TEST(EndpointTest, CanonicalisesIpv6SoEqualAddressesCompareEqual) {
  absl::StatusOr<Endpoint> a = ParseEndpoint("[0:0:0:0:0:0:0:1]:7001");
  absl::StatusOr<Endpoint> b = ParseEndpoint("[::1]:7001");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  absl::StatusOr<Endpoint> upper = ParseEndpoint("[FE80::ABCD]:1");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(upper->host, "fe80::abcd");
}

TEST(EndpointTest, HostNamesAreLowerCased) {
  absl::StatusOr<Endpoint> endpoint = ParseEndpoint("LocalHost:65535");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->host, "localhost");
  EXPECT_EQ(endpoint->port, 65535);
  EXPECT_TRUE(ParseEndpoint("region-1.example.com:1").ok());
}

TEST(EndpointTest, ToStringParsesBackToTheSameEndpoint) {
  for (std::string_view text : {"10.1.2.3:80", "[2001:db8::7]:443", "db.internal:6379"}) {
    absl::StatusOr<Endpoint> endpoint = ParseEndpoint(text);
    ASSERT_TRUE(endpoint.ok()) << text;
    EXPECT_EQ(endpoint->ToString(), text);
    absl::StatusOr<Endpoint> again = ParseEndpoint(endpoint->ToString());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *endpoint);
  }
}

TEST(EndpointTest, MissingPortIsRejected) {
  EXPECT_EQ(ErrorOf("127.0.0.1"), "bad address '127.0.0.1': expected host:port");
  EXPECT_EQ(ErrorOf("127.0.0.1:"), "bad address '127.0.0.1:': missing port");
  EXPECT_EQ(ErrorOf("[::1]"), "bad address '[::1]': expected [host]:port");
  EXPECT_EQ(ErrorOf(""), "bad address '': expected host:port");
}

TEST(EndpointTest, MissingHostIsRejected) {
  EXPECT_EQ(ErrorOf(":7001"), "bad address ':7001': missing host");
  EXPECT_EQ(ErrorOf("[]:7001"), "bad address '[]:7001': missing host");
}

TEST(EndpointTest, PortOutOfRangeIsRejected) {
  EXPECT_EQ(ErrorOf("127.0.0.1:0"), "bad address '127.0.0.1:0': port must be 1-65535");
  EXPECT_EQ(ErrorOf("127.0.0.1:65536"), "bad address '127.0.0.1:65536': port must be 1-65535");
  EXPECT_EQ(ErrorOf("127.0.0.1:99999999999999999999"),
            "bad address '127.0.0.1:99999999999999999999': port must be 1-65535");
}

TEST(EndpointTest, NonNumericPortIsRejected) {
  EXPECT_EQ(ErrorOf("127.0.0.1:http"), "bad address '127.0.0.1:http': port 'http' is not a number");
  EXPECT_EQ(ErrorOf("127.0.0.1:+80"), "bad address '127.0.0.1:+80': port '+80' is not a number");
  EXPECT_EQ(ErrorOf("127.0.0.1: 80"), "bad address '127.0.0.1: 80': port ' 80' is not a number");
}

TEST(EndpointTest, UnbracketedIpv6IsRejected) {
  EXPECT_EQ(ErrorOf("::1:7001"),
            "bad address '::1:7001': IPv6 addresses must be in brackets, e.g. [::1]:7001");
}

TEST(EndpointTest, MalformedHostsAreRejected) {
  EXPECT_EQ(ErrorOf("[::1:7001"), "bad address '[::1:7001': missing ']' after IPv6 address");
  EXPECT_EQ(ErrorOf("[127.0.0.1]:1"),
            "bad address '[127.0.0.1]:1': invalid IPv6 address '127.0.0.1'");
  EXPECT_EQ(ErrorOf("127.0.0.256:1"),
            "bad address '127.0.0.256:1': invalid IPv4 address '127.0.0.256'");
  EXPECT_EQ(ErrorOf("127.1:1"), "bad address '127.1:1': invalid IPv4 address '127.1'");
  EXPECT_EQ(ErrorOf("my host:1"), "bad address 'my host:1': invalid host name 'my host'");
  EXPECT_EQ(ErrorOf("-bad.example:1"),
            "bad address '-bad.example:1': invalid host name '-bad.example'");
  EXPECT_EQ(ErrorOf("a..b:1"), "bad address 'a..b:1': invalid host name 'a..b'");
}

TEST(EndpointTest, UnspecifiedAddressesAreRejected) {
  const std::string detail =
      "the unspecified address cannot be connected to; name a reachable address such as "
      "127.0.0.1";
  EXPECT_EQ(ErrorOf("0.0.0.0:7001"), "bad address '0.0.0.0:7001': " + detail);
  EXPECT_EQ(ErrorOf("[::]:7001"), "bad address '[::]:7001': " + detail);
}

}  // namespace
}  // namespace activekv::topology
