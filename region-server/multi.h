#pragma once

// MULTI / EXEC / DISCARD / WATCH / UNWATCH (Redis 7.0's multi.c; docs/crdt-semantics.md,
// "Transactions"). The dispatcher (Server::Execute) queues a MULTI client's commands after the
// checks Redis's processCommand makes before queueing; EXEC runs them through the same handlers
// and the connection commits once afterwards, so a transaction's ops are one unit: one AOF
// record, one replication-log entry, applied by every peer in one step.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "region-server/resp/reply.h"
#include "region-server/watch.h"

namespace activekv::server {

struct Client;
struct CommandContext;
struct CommandSpec;
class CommandTable;
class Server;

// A client's transaction state (Redis's multiState and the CLIENT_MULTI, CLIENT_DIRTY_EXEC and
// CLIENT_DIRTY_CAS flags).
struct TransactionState {
  struct Queued {
    const CommandSpec* spec;
    std::vector<std::string> args;
  };
  bool multi = false;       // between MULTI and EXEC / DISCARD
  bool dirty_exec = false;  // a command was refused while queueing: EXEC answers EXECABORT
  bool dirty_cas = false;   // a watched key changed: EXEC answers a null array
  std::vector<Queued> queued;
  uint32_t queued_flags = 0;      // OR of the queued commands' flags
  uint32_t queued_inv_flags = 0;  // OR of their complements ("some queued command lacks X")
  std::vector<WatchedKey> watched;
};

// Dispatcher hooks.
// True when a MULTI client's command is queued rather than run (all but EXEC, DISCARD, MULTI,
// WATCH, QUIT, RESET).
bool QueuesInMulti(const Client& client, const CommandSpec& spec);
// Queues the command (args copied) and replies +QUEUED. A transaction that is already doomed
// (dirty) keeps nothing, as Redis.
void QueueCommand(const CommandSpec& spec, const std::vector<std::string_view>& args,
                  Client* client, resp::ReplyBuilder* reply);
// A command was refused before it ran with `error` (no leading '-'): inside MULTI the
// transaction is flagged (EXEC will answer EXECABORT); a refused EXEC itself is aborted with
// "EXECABORT Transaction discarded because of: <error>" (Redis rejectCommand).
void RejectCommand(Server* server, Client* client, bool is_exec, std::string_view error,
                   resp::ReplyBuilder* reply);
bool IsExec(const CommandSpec& spec);
// Redis 7.0 resolves a container's subcommand (CLIENT, CONFIG, COMMAND, OBJECT, PUBSUB) before it
// queues: an unknown one, or a wrong number of arguments for it, is refused then. Empty when
// `args` passes; else the error (no leading '-').
std::string SubcommandError(const CommandSpec& spec, const std::vector<std::string_view>& args);
// Redis's fullname: "client|list" for a container's known subcommand, else the command's name
// (lower case). CLIENT LIST's cmd= and the pub/sub mode error show it.
std::string CommandFullName(const CommandSpec& spec, const std::vector<std::string_view>& args);
// The same into `*out`, reusing its capacity (per command: the client's last_command).
void SetFullName(const CommandSpec& spec, const std::vector<std::string_view>& args,
                 std::string* out);
// Ends the client's transaction and watches (DISCARD, EXEC, RESET, disconnect).
void DiscardTransaction(Server* server, Client* client);

void RegisterTransactionFamily(CommandTable* table);

}  // namespace activekv::server
