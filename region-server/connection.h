#pragma once

#include <memory>
#include <string>
#include <vector>

#include "asio.hpp"
#include "region-server/resp/parser.h"
#include "region-server/resp/reply.h"
#include "region-server/server.h"
#include "region-server/tls/tls_server.h"

namespace activekv::server {

// One client connection. Reads what is available, runs every complete command (pipelining),
// and writes all replies with one write. Replies that follow a write are held back until the
// AOF covers it (DESIGN.md §1): after fsync for appendfsync always (group commit), after write()
// for everysec / no, as redis-server does.
//
// Malformed input: Redis's protocol error is sent and the connection closed; others are unaffected.
// Event-loop thread only. Owned by shared_ptrs held by pending asynchronous operations.
//
// Over TLS (a `resp_tls` port), the handshake runs first, then the same loop over the TLS
// session: it may want the socket readable to write or writable to read, and may hold decrypted
// input the socket no longer signals (tls/tls_server.h).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `tls`: the context of the port it was accepted on; null for plain TCP.
  Connection(Server* server, asio::ip::tcp::socket socket, SSL_CTX* tls = nullptr);
  ~Connection();

  void Start();
  // The AOF now covers what this connection waited for.
  void OnDurable();
  void Close();
  // While a script is busy (Server::ServeWhileBusy): reads what this client sent, runs it
  // (-BUSY for most commands) and writes the replies, without committing anything. A connection
  // with replies still pending (unwritten or waiting for the AOF) is left alone.
  void ServeWhileBusy();

  // Blocking commands (region-server/blocking.h). While its client is blocked, the connection
  // runs no command: later input waits in its buffer (it is still read, so a disconnect is seen).
  // A key it waits on may be ready: runs the blocked command again (its reply, if it does not
  // block again, goes out like any other).
  void RunBlocked(const std::vector<std::string>& args);
  // The wait ended without data: on timeout (or CLIENT UNBLOCK ... TIMEOUT) a null array, as
  // redis-server 7.0 answers every blocking command; -UNBLOCKED for CLIENT UNBLOCK ... ERROR.
  enum class Unblocked { kTimeout, kError };
  void FinishBlocked(Unblocked how);
  // The client is no longer blocked: goes on with its buffered input (from a posted task).
  void ResumeAfterBlocked();

  // Pub/sub: appends a message (already in this client's protocol) to the output and arranges
  // a write after the current handler. A client past its client-output-buffer-limit is
  // disconnected (Redis's rule; docs/messaging.md). Never changes any subscription.
  void DeliverPush(std::string_view bytes);

  const Client& client() const { return client_; }
  Client& client() { return client_; }
  size_t query_buffer_size() const { return in_size_ - in_start_; }
  size_t output_buffer_size() const { return out_.size() - out_start_; }

 private:
  // What a read or write of the byte stream (TCP or TLS) did.
  enum class Io { kOk, kWaitRead, kWaitWrite, kClosed };
  Io ReadSome(char* buf, size_t cap, size_t* n);
  Io WriteSome(const char* buf, size_t len, size_t* n);
  // A TLS session's result as an Io (an error is logged).
  Io FromTls(tls::Session::Result r);
  static asio::socket_base::wait_type WaitFor(Io io) {
    return io == Io::kWaitWrite ? asio::socket_base::wait_write : asio::socket_base::wait_read;
  }
  // TLS: one step of the server handshake; reading starts once it is done.
  void ContinueHandshake();
  // Waits until input may be read (`how`: the direction a TLS read asked for), or posts the read
  // at once when the TLS session already holds decrypted input.
  void WaitReadable(asio::socket_base::wait_type how = asio::socket_base::wait_read);
  void OnReadable(const asio::error_code& ec);
  // Returns false when the connection must close.
  // `commit`: commit each command's ops (false while a script is busy: its unit is open).
  bool ProcessInput(bool commit = true);
  void Dispatch(const std::vector<std::string_view>& args);
  // Sends pending output (or parks until it is durable), then resumes reading.
  void FlushOutput();
  void OnWritable(const asio::error_code& ec);
  // Unsent output past the client class's client-output-buffer-limit: closes the connection
  // (its buffered output dropped) and returns true.
  bool CloseIfOverOutputLimit();
  // Unprocessed input past client-query-buffer-limit: closes the connection, returns true.
  bool CloseIfOverQueryLimit();

  Server* server_;
  asio::ip::tcp::socket socket_;
  std::unique_ptr<tls::Session> tls_;  // null: plain TCP
  // Input bytes [in_start_, in_size_) of in_ (capacity in_.size(): grown, never zero-filled
  // per read).
  std::string in_;
  size_t in_start_ = 0;
  size_t in_size_ = 0;
  std::string out_;
  size_t out_start_ = 0;
  resp::Parser parser_;
  resp::ReplyBuilder reply_;
  std::vector<std::string_view> args_;
  Client client_;
  uint64_t pending_lsn_ = 0;  // reply bytes in out_ wait until the AOF covers this LSN
  bool closed_ = false;
  // An asynchronous wait is pending: for input (WaitReadable), for the socket to take more
  // output or for durability (FlushOutput). A blocked client is resumed from outside these
  // handlers, which must then not start a second wait of the same kind.
  bool read_pending_ = false;
  bool write_pending_ = false;
  bool flush_posted_ = false;        // DeliverPush posted a FlushOutput
  int64_t soft_limit_since_ms_ = 0;  // unsent output above the soft limit since (0: it is not)
};

}  // namespace activekv::server
