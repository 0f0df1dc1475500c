#include "syncer/status_service.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace activekv::syncer {

grpc::ServerUnaryReactor* StatusService::GetStatus(grpc::CallbackServerContext* ctx,
                                                   const v1::GetStatusRequest* request,
                                                   v1::RegionStatus* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  bool with_digest = request->with_digest();
  executor_([this, reactor, response, with_digest] {
    *response = snapshot_(with_digest);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

// Streams a status every interval: one write in flight at a time; the next one is produced on
// the executor after the previous write completed and the interval elapsed.
class StatusService::Watcher final : public grpc::ServerWriteReactor<v1::RegionStatus> {
 public:
  Watcher(StatusService* service, const v1::WatchStatusRequest& request)
      : service_(service),
        interval_(
            std::chrono::milliseconds(request.interval_ms() == 0 ? 1000 : request.interval_ms())),
        with_digest_(request.with_digest()),
        ticker_([this] { Tick(); }) {}

  ~Watcher() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    ticker_.join();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ok) {
      cancelled_ = true;
    } else {
      writing_ = false;
    }
    cv_.notify_all();
  }
  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }
  void OnDone() override { delete this; }

 private:
  // A small thread per watcher paces the stream; watchers are few (operators, activekvctl).
  void Tick() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!done_ && !cancelled_) {
      writing_ = true;
      in_executor_ = true;
      lock.unlock();
      service_->executor_([this] {
        status_ = service_->snapshot_(with_digest_);
        StartWrite(&status_);
        std::lock_guard<std::mutex> guard(mu_);
        in_executor_ = false;
        cv_.notify_all();
      });
      lock.lock();
      cv_.wait(lock, [this] { return done_ || cancelled_ || !writing_; });
      if (done_ || cancelled_) break;
      cv_.wait_for(lock, interval_, [this] { return done_ || cancelled_; });
    }
    // The task on the executor refers to this watcher: let it finish first.
    cv_.wait(lock, [this] { return !in_executor_; });
    if (cancelled_ && !finished_) {
      finished_ = true;
      lock.unlock();
      Finish(grpc::Status::CANCELLED);
    }
  }

  StatusService* service_;
  std::chrono::milliseconds interval_;
  bool with_digest_;
  v1::RegionStatus status_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool writing_ = false;
  bool in_executor_ = false;
  bool cancelled_ = false;
  bool done_ = false;
  bool finished_ = false;
  std::thread ticker_;
};

grpc::ServerWriteReactor<v1::RegionStatus>* StatusService::WatchStatus(
    grpc::CallbackServerContext* /*ctx*/, const v1::WatchStatusRequest* request) {
  return new Watcher(this, *request);
}

}  // namespace activekv::syncer
