// A FIFO of bytes held in fixed-size blocks, for the AOF's write buffer.
//
// The everysec AOF keeps every byte written since the last successful fsync (up to a second of
// writes, tens of MiB under load) so that a failed fsync can write them again (aof.h). In one
// std::string that costs a reallocation and copy of everything held each time it grows, fresh
// pages to fault in, and a memmove of what stays each time an fsync lets the front go. Here an
// append never moves bytes already queued, dropping the front releases whole blocks, and released
// blocks are reused, so a large, long-lived queue costs only the copy of each appended byte.
//
// Not thread-safe; a queue's bytes may be handed to another thread's queue whole (SpliceTo).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

namespace activekv::persistence {

class ByteQueue {
 public:
  // Large enough that a write(2) of a block is cheap per byte, small enough to come from the
  // heap rather than from mmap (glibc's default threshold is 128 KiB).
  static constexpr size_t kBlockSize = size_t{64} << 10;
  // Released blocks kept for reuse (32 MiB, what an everysec AOF may hold before it fsyncs
  // early); more are freed. ReleaseSpare frees them all.
  static constexpr size_t kMaxSpareBlocks = 512;

  ByteQueue() = default;
  ByteQueue(const ByteQueue&) = delete;
  ByteQueue& operator=(const ByteQueue&) = delete;
  ByteQueue(ByteQueue&&) = default;
  ByteQueue& operator=(ByteQueue&&) = default;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void Append(std::string_view data);
  // Drops the first `n` bytes (n <= size()).
  void DropFront(size_t n);
  void Clear() { DropFront(size_); }
  // Moves every byte of this queue to the end of `*dst`, in order, without copying them (whole
  // blocks change hands; the next Append to `*dst` may still fill the last one).
  void SpliceTo(ByteQueue* dst);
  // Frees the spare blocks (a queue that went idle).
  void ReleaseSpare() { spare_.clear(); }
  // Takes `*other`'s spare blocks (up to kMaxSpareBlocks in all): blocks that travel one way by
  // SpliceTo come back for reuse.
  void TakeSpareFrom(ByteQueue* other);

  // Calls `write` with the bytes from offset `from` (<= size()) to the end, as contiguous pieces
  // in order, and stops at the first error, which it returns.
  absl::Status ForEachPiece(size_t from,
                            absl::FunctionRef<absl::Status(std::string_view)> write) const;

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    size_t begin = 0;  // bytes [begin, end) of data are queued
    size_t end = 0;
  };
  Block NewBlock();

  std::deque<Block> blocks_;
  std::vector<std::unique_ptr<char[]>> spare_;
  size_t size_ = 0;
};

}  // namespace activekv::persistence
