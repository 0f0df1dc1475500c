#include "region-server/connection.h"

#include <poll.h>

#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "region-server/errors.h"
#include "spdlog/spdlog.h"

namespace activekv::server {
namespace {
constexpr size_t kReadChunk = size_t{16} * 1024;
constexpr size_t kCompactThreshold = size_t{64} * 1024;

std::string EndpointText(const asio::ip::tcp::endpoint& ep) {
  return absl::StrCat(ep.address().to_string(), ":", ep.port());
}
}  // namespace

Connection::Connection(Server* server, asio::ip::tcp::socket socket, SSL_CTX* tls)
    : server_(server), socket_(std::move(socket)), reply_(&out_) {
  asio::error_code ec;
  socket_.non_blocking(true, ec);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  if (tls != nullptr) tls_ = std::make_unique<tls::Session>(tls, socket_.native_handle());
  client_.id = server_->NextClientId();
  server_->InitClientUser(&client_);
  client_.connection = this;
  auto remote = socket_.remote_endpoint(ec);
  if (!ec) client_.addr = EndpointText(remote);
  auto local = socket_.local_endpoint(ec);
  if (!ec) client_.laddr = EndpointText(local);
  client_.created_ms = server_->region().NowMs();
  client_.last_interaction_ms = client_.created_ms;
  server_->Register(this);
}

Connection::~Connection() {
  server_->blocking().Forget(&client_);
  server_->pubsub().Forget(&client_);
  server_->Unregister(this);
}

void Connection::Start() {
  if (tls_) {
    ContinueHandshake();
  } else {
    WaitReadable();
  }
}

void Connection::ContinueHandshake() {
  if (closed_) return;
  const Io io = FromTls(tls_->Handshake());
  if (io == Io::kOk) {
    WaitReadable();
    return;
  }
  if (io == Io::kClosed) {
    Close();
    return;
  }
  read_pending_ = true;  // nothing else reads or writes before the handshake is done
  socket_.async_wait(WaitFor(io), [self = shared_from_this()](const asio::error_code& ec) {
    self->read_pending_ = false;
    if (ec) {
      self->Close();
      return;
    }
    self->ContinueHandshake();
  });
}

Connection::Io Connection::FromTls(tls::Session::Result r) {
  switch (r) {
    case tls::Session::Result::kOk:
      return Io::kOk;
    case tls::Session::Result::kWantRead:
      return Io::kWaitRead;
    case tls::Session::Result::kWantWrite:
      return Io::kWaitWrite;
    case tls::Session::Result::kError:
      server_->LogTlsFailure(client_.addr, tls_->error());
      return Io::kClosed;
    case tls::Session::Result::kClosed:
      break;
  }
  return Io::kClosed;
}

Connection::Io Connection::ReadSome(char* buf, size_t cap, size_t* n) {
  *n = 0;
  if (tls_) return FromTls(tls_->Read(buf, cap, n));
  asio::error_code ec;
  *n = socket_.read_some(asio::buffer(buf, cap), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) return Io::kWaitRead;
  if (ec || *n == 0) return Io::kClosed;
  return Io::kOk;
}

Connection::Io Connection::WriteSome(const char* buf, size_t len, size_t* n) {
  *n = 0;
  if (tls_) return FromTls(tls_->Write(buf, len, n));
  asio::error_code ec;
  *n = socket_.write_some(asio::buffer(buf, len), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) return Io::kWaitWrite;
  if (ec) return Io::kClosed;
  return *n < len ? Io::kWaitWrite : Io::kOk;
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  if (tls_) tls_->Shutdown();
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

void Connection::WaitReadable(asio::socket_base::wait_type how) {
  if (closed_ || read_pending_) return;
  read_pending_ = true;
  auto self = shared_from_this();
  if (tls_ && tls_->has_buffered_input()) {
    asio::post(server_->io(), [self] { self->OnReadable(asio::error_code()); });
    return;
  }
  socket_.async_wait(how, [self](const asio::error_code& ec) { self->OnReadable(ec); });
}

void Connection::OnReadable(const asio::error_code& ec) {
  read_pending_ = false;
  if (ec || closed_) {
    Close();
    return;
  }
  // Make room: drop consumed bytes, then grow for what the parser says is still needed.
  if (in_start_ > 0 && (in_start_ == in_size_ || in_start_ >= kCompactThreshold)) {
    memmove(in_.data(), in_.data() + in_start_, in_size_ - in_start_);
    in_size_ -= in_start_;
    in_start_ = 0;
  }
  size_t want = std::max(kReadChunk, parser_.bytes_hint());
  if (in_.size() < in_size_ + want) in_.resize(in_size_ + want);
  size_t n;
  Io io = ReadSome(in_.data() + in_size_, want, &n);
  if (io == Io::kWaitRead || io == Io::kWaitWrite) {
    WaitReadable(WaitFor(io));
    return;
  }
  if (io == Io::kClosed) {
    Close();
    return;
  }
  in_size_ += n;
  server_->stats().total_net_input_bytes += n;
  server_->region().RefreshClock();
  client_.last_interaction_ms = server_->region().NowMs();
  if (CloseIfOverQueryLimit()) return;
  bool keep = ProcessInput();
  if (!keep) client_.close_after_reply = true;
  if (!write_pending_) FlushOutput();
}

bool Connection::ProcessInput(bool commit) {
  Region& region = server_->region();
  while (!client_.close_after_reply && !client_.blocked) {
    std::string_view input(in_.data() + in_start_, in_size_ - in_start_);
    if (input.empty()) break;
    size_t consumed = 0;
    // Before AUTH, Redis's tight limits (10 arguments, 16 KiB each) keep a stranger from making
    // the server buffer big requests.
    parser_.set_auth_required(server_->AuthRequired(client_));
    parser_.set_max_bulk_len(server_->config().proto_max_bulk_len);
    resp::Parser::Result r = parser_.Parse(input, &consumed, &args_);
    in_start_ += consumed;
    if (r == resp::Parser::Result::kInputPending) break;
    if (r == resp::Parser::Result::kError) {
      ++server_->stats().protocol_errors;
      reply_.Error(parser_.error());
      return false;
    }
    Dispatch(args_);
    uint64_t lsn = commit ? region.Commit() : 0;
    if (lsn != 0) pending_lsn_ = lsn;
    // Clients blocked on keys this command touched are served before the next command runs,
    // as redis-server does (not while a busy script's unit is open: nothing commits then).
    if (commit && server_->blocking().has_ready()) server_->blocking().ServeReady();
  }
  // Views into in_ are dead from here on; the buffer may now move.
  if (in_start_ == in_size_) {
    in_start_ = in_size_ = 0;
    // A huge request leaves a huge buffer: give it back once drained.
    if (in_.size() > 4 * kCompactThreshold) std::string().swap(in_);
  }
  return true;
}

void Connection::Dispatch(const std::vector<std::string_view>& args) {
  client_.last_interaction_ms = server_->region().NowMs();
  server_->Execute(args, &client_, &reply_);
}

void Connection::FlushOutput() {
  if (closed_) return;
  if (out_start_ == out_.size()) {
    out_.clear();
    out_start_ = 0;
    if (client_.close_after_reply) {
      Close();
      return;
    }
    WaitReadable();
    return;
  }
  if (pending_lsn_ != 0) {
    uint64_t lsn = pending_lsn_;
    pending_lsn_ = 0;
    write_pending_ = true;
    server_->WaitDurable(shared_from_this(), lsn);
    return;
  }
  size_t n;
  Io io = WriteSome(out_.data() + out_start_, out_.size() - out_start_, &n);
  if (io == Io::kClosed) {
    Close();
    return;
  }
  out_start_ += n;
  server_->stats().total_net_output_bytes += n;
  if (out_start_ < out_.size()) {
    if (CloseIfOverOutputLimit()) return;
    write_pending_ = true;
    // TLS may want input before it can write (Io::kWaitRead); plain TCP waits for room.
    socket_.async_wait(
        io == Io::kWaitRead ? asio::socket_base::wait_read : asio::socket_base::wait_write,
        [self = shared_from_this()](const asio::error_code& e) { self->OnWritable(e); });
    return;
  }
  FlushOutput();
}

void Connection::DeliverPush(std::string_view bytes) {
  if (closed_) return;
  out_.append(bytes);
  if (CloseIfOverOutputLimit()) return;
  if (write_pending_ || flush_posted_) return;
  flush_posted_ = true;
  asio::post(server_->io(), [self = shared_from_this()] {
    self->flush_posted_ = false;
    if (!self->write_pending_) self->FlushOutput();
  });
}

bool Connection::CloseIfOverOutputLimit() {
  const ServerConfig& config = server_->config();
  const ServerConfig::OutputBufferLimit& limit =
      client_.subs.any() ? config.obuf_pubsub : config.obuf_normal;
  const uint64_t unsent = out_.size() - out_start_;
  bool over = limit.hard != 0 && unsent >= limit.hard;
  if (limit.soft != 0 && unsent >= limit.soft) {
    const int64_t now = server_->region().NowMs();
    if (soft_limit_since_ms_ == 0) {
      soft_limit_since_ms_ = now;
    } else if (now - soft_limit_since_ms_ > limit.soft_seconds * 1000) {
      over = true;
    }
  } else {
    soft_limit_since_ms_ = 0;
  }
  if (!over) return false;
  spdlog::warn(
      "Client id={} addr={} closed for overcoming of output buffer limits ({} bytes "
      "unsent).",
      client_.id, client_.addr, unsent);
  std::string().swap(out_);
  out_start_ = 0;
  Close();
  return true;
}

bool Connection::CloseIfOverQueryLimit() {
  const size_t pending = in_size_ - in_start_;
  if (pending <= server_->config().client_query_buffer_limit) return false;
  std::string head =
      absl::CHexEscape(absl::string_view(in_.data() + in_start_, std::min<size_t>(64, pending)));
  spdlog::warn(
      "Closing client that reached max query buffer length: id={} addr={} qbuf={} (qbuf initial "
      "bytes: \"{}\")",
      client_.id, client_.addr, pending, head);
  Close();
  return true;
}

void Connection::OnWritable(const asio::error_code& ec) {
  write_pending_ = false;
  if (ec) {
    Close();
    return;
  }
  FlushOutput();
}

void Connection::OnDurable() {
  write_pending_ = false;
  FlushOutput();
}

void Connection::RunBlocked(const std::vector<std::string>& args) {
  if (closed_) return;
  Region& region = server_->region();
  region.RefreshClock();
  std::vector<std::string_view> views(args.begin(), args.end());
  Dispatch(views);
  uint64_t lsn = region.Commit();
  if (lsn != 0) pending_lsn_ = lsn;
}

void Connection::FinishBlocked(Unblocked how) {
  switch (how) {
    case Unblocked::kTimeout:
      reply_.NullArray();
      break;
    case Unblocked::kError:
      reply_.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
      break;
  }
  ResumeAfterBlocked();
}

void Connection::ResumeAfterBlocked() {
  asio::post(server_->io(), [self = shared_from_this()] {
    if (self->closed_ || self->client_.blocked) return;
    self->server_->region().RefreshClock();
    if (!self->ProcessInput()) self->client_.close_after_reply = true;
    if (!self->write_pending_) self->FlushOutput();
  });
}

void Connection::ServeWhileBusy() {
  if (closed_ || out_start_ != out_.size() || pending_lsn_ != 0) return;
  if (tls_ && !tls_->handshake_done()) {
    // Its own wait (read_pending_) drives the handshake once the loop runs again; a step now
    // lets a client that connected during the script get as far as it can.
    tls::Session::Result r = tls_->Handshake();
    if (r == tls::Session::Result::kError || r == tls::Session::Result::kClosed) Close();
    return;
  }
  if (in_start_ > 0 && in_start_ == in_size_) in_start_ = in_size_ = 0;
  size_t want = std::max(kReadChunk, parser_.bytes_hint());
  if (in_.size() < in_size_ + want) in_.resize(in_size_ + want);
  size_t n;
  Io io = ReadSome(in_.data() + in_size_, want, &n);
  if (io == Io::kWaitRead || io == Io::kWaitWrite) return;
  if (io == Io::kClosed) {
    Close();
    return;
  }
  in_size_ += n;
  server_->stats().total_net_input_bytes += n;
  client_.last_interaction_ms = server_->region().NowMs();
  if (CloseIfOverQueryLimit()) return;
  if (!ProcessInput(/*commit=*/false)) client_.close_after_reply = true;
  // Write the replies now (they are small: -BUSY, KILL's answer); the socket is non-blocking,
  // so wait for it to drain a little at most.
  for (int spins = 0; out_start_ < out_.size() && spins < 1000; ++spins) {
    size_t w;
    Io wio = WriteSome(out_.data() + out_start_, out_.size() - out_start_, &w);
    if (wio == Io::kClosed) {
      Close();
      return;
    }
    out_start_ += w;
    server_->stats().total_net_output_bytes += w;
    if (w == 0) {
      pollfd pfd{socket_.native_handle(),
                 static_cast<int16_t>(wio == Io::kWaitRead ? POLLIN : POLLOUT), 0};
      ::poll(&pfd, 1, 10);
    }
  }
  if (out_start_ == out_.size()) {
    out_.clear();
    out_start_ = 0;
    if (client_.close_after_reply) Close();
  }
}

}  // namespace activekv::server
