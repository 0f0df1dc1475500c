#include "backup/object_store.h"

#include <unistd.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "backup/local_store.h"
#include "backup/s3_store.h"

namespace activekv::backup {
namespace {

absl::Status StepError(absl::string_view step, const ObjectStore& store, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat("validating backup location ", store.Describe(), ": ",
                                             step, " failed: ", s.message()));
}

}  // namespace

Source SingleChunk(std::string_view data) {
  return [data, done = false]() mutable -> absl::StatusOr<std::string_view> {
    if (done) return std::string_view();
    done = true;
    return data;
  };
}

absl::Status ValidateKey(const std::string& key) {
  if (key.empty()) return absl::InvalidArgumentError("object key is empty");
  for (absl::string_view seg : absl::StrSplit(key, '/')) {
    if (seg.empty() || seg == "." || seg == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "object key '", key, "' has an empty, '.' or '..' segment (or a leading '/')"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ObjectStore>> OpenObjectStore(const Location& location,
                                                             const S3Config& s3,
                                                             const S3StoreOptions& options) {
  if (location.kind == Location::kLocal) {
    auto store = LocalStore::Open(location.path);
    if (!store.ok()) return store.status();
    return std::unique_ptr<ObjectStore>(std::move(*store));
  }
  auto store = S3Store::Open(location.bucket, location.prefix, s3, options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<ObjectStore>(std::move(*store));
}

absl::Status ValidateLocation(ObjectStore& store) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string key =
      absl::StrCat("activekv-probe-", getpid(), "-",
                   std::chrono::duration_cast<std::chrono::microseconds>(now).count());
  const std::string payload = absl::StrCat("activekv location probe ", key, "\n");

  if (absl::Status s = store.Put(key, payload); !s.ok()) return StepError("write", store, s);
  // From here on a failed step still tries to remove the probe (best effort).
  auto failed = [&](std::string_view step, const absl::Status& s) {
    (void)store.Delete(key);
    return StepError(absl::string_view(step.data(), step.size()), store, s);
  };

  std::string back;
  absl::Status s = store.Get(key, [&](std::string_view chunk) {
    back.append(chunk.data(), chunk.size());
    return absl::OkStatus();
  });
  if (!s.ok()) return failed("read back", s);
  if (back != payload) {
    return failed("read back", absl::DataLossError(absl::StrCat(
                                   "probe object ", key, " read back ", back.size(),
                                   " bytes that differ from the ", payload.size(), " written")));
  }

  auto listed = store.List(key);
  if (!listed.ok()) return failed("list", listed.status());
  bool found = false;
  for (const ObjectInfo& o : *listed) found = found || (o.key == key && o.size == payload.size());
  if (!found) {
    return failed("list", absl::DataLossError(absl::StrCat(
                              "probe object ", key, " was written but List does not show it")));
  }

  if (absl::Status d = store.Delete(key); !d.ok()) return StepError("delete", store, d);
  auto after = store.List(key);
  if (!after.ok()) return StepError("list after delete", store, after.status());
  for (const ObjectInfo& o : *after) {
    if (o.key == key) {
      return StepError(
          "delete", store,
          absl::DataLossError(absl::StrCat("probe object ", key, " is still listed after Delete")));
    }
  }
  return absl::OkStatus();
}

}  // namespace activekv::backup
