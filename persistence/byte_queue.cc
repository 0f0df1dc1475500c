#include "persistence/byte_queue.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

namespace activekv::persistence {

ByteQueue::Block ByteQueue::NewBlock() {
  Block block;
  if (spare_.empty()) {
    // Uninitialized: every byte is written before it is read.
    block.data.reset(new char[kBlockSize]);
  } else {
    block.data = std::move(spare_.back());
    spare_.pop_back();
  }
  return block;
}

void ByteQueue::Append(std::string_view data) {
  size_ += data.size();
  while (!data.empty()) {
    if (blocks_.empty() || blocks_.back().end == kBlockSize) blocks_.push_back(NewBlock());
    Block& back = blocks_.back();
    const size_t n = std::min(data.size(), kBlockSize - back.end);
    memcpy(back.data.get() + back.end, data.data(), n);
    back.end += n;
    data.remove_prefix(n);
  }
}

void ByteQueue::DropFront(size_t n) {
  assert(n <= size_);
  size_ -= n;
  while (n > 0) {
    Block& front = blocks_.front();
    const size_t take = std::min(n, front.end - front.begin);
    front.begin += take;
    n -= take;
    if (front.begin == front.end) {
      if (spare_.size() < kMaxSpareBlocks) spare_.push_back(std::move(front.data));
      blocks_.pop_front();
    }
  }
}

void ByteQueue::SpliceTo(ByteQueue* dst) {
  assert(dst != this);
  for (Block& block : blocks_) dst->blocks_.push_back(std::move(block));
  dst->size_ += size_;
  blocks_.clear();
  size_ = 0;
}

void ByteQueue::TakeSpareFrom(ByteQueue* other) {
  while (!other->spare_.empty() && spare_.size() < kMaxSpareBlocks) {
    spare_.push_back(std::move(other->spare_.back()));
    other->spare_.pop_back();
  }
}

absl::Status ByteQueue::ForEachPiece(
    size_t from, absl::FunctionRef<absl::Status(std::string_view)> write) const {
  assert(from <= size_);
  for (const Block& block : blocks_) {
    const size_t len = block.end - block.begin;
    if (from >= len) {
      from -= len;
      continue;
    }
    absl::Status status =
        write(std::string_view(block.data.get() + block.begin + from, len - from));
    if (!status.ok()) return status;
    from = 0;
  }
  return absl::OkStatus();
}

}  // namespace activekv::persistence
