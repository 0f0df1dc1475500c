#pragma once

#include <string>
#include <string_view>

#include "region-server/command.h"

namespace activekv::server {

class Connection;

// The Redis version we are compatible with (reported by HELLO and INFO as redis_version, which
// client libraries read to pick features).
inline constexpr std::string_view kRedisVersion = "7.0.15";
inline constexpr std::string_view kActivekvVersion = "0.1.0";

// INFO [section ...]: server clients memory persistence stats replication cpu keyspace crdt.
void InfoCommand(CommandContext& ctx);
// CONFIG GET / SET / RESETSTAT / REWRITE / HELP.
void ConfigCommand(CommandContext& ctx);
// One CLIENT LIST line (without the trailing newline), in Redis 7.0's format.
std::string ClientInfoLine(Server& server, const Connection& c);

}  // namespace activekv::server
