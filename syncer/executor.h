#pragma once

#include <functional>

namespace activekv::syncer {

// Runs a task on the thread that owns the region's state (the server's event loop). gRPC
// handlers never touch that state directly: they hand work to the executor and reply from it.
// Must be callable from any thread; tasks run in submission order.
using Executor = std::function<void(std::function<void()>)>;

}  // namespace activekv::syncer
