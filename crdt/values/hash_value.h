#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "activekv/v1/snapshot.pb.h"
#include "crdt/digest.h"
#include "crdt/values/element_table.h"
#include "crdt/values/register.h"
#include "crdt/values/set_value.h"
#include "crdt/values/tag.h"
#include "crdt/values/value_type.h"

namespace activekv::crdt {

// A hash (docs/crdt-semantics.md, "Hashes"): an add-wins map from field to a Register. HSET
// writes a new instance of a field's value, replacing the instances it observed; concurrent
// writes resolve by last-writer-wins; HINCRBY/HINCRBYFLOAT are counter increments on the field,
// so concurrent increments all count; HDEL removes only the observed instances (a concurrent
// HINCRBY or HSET survives). A field is present while its register exists. Not thread-safe.
class HashValue {
 public:
  struct Field {
    CompactString name;
    Register reg;
  };

  HashValue() = default;
  HashValue(const HashValue&) = delete;
  HashValue& operator=(const HashValue&) = delete;

  // HSET of one field (instance `tag`), after removing the instances of it (values and
  // increments) that the op's context `observed` covers.
  void Set(std::string_view name, std::string_view value, const Tag& tag, Hlc hlc,
           const VersionVector& observed, const ValueContext& ctx);
  // HINCRBY / HINCRBYFLOAT of one field.
  void Increment(std::string_view name, const Register::Increment& inc, const ValueContext& ctx);
  // HDEL of one field: removes the instances of it that `observed` covers.
  void Remove(std::string_view name, const VersionVector& observed, const ValueContext& ctx);
  // Whole-key removal: every instance whose dot `observed` covers.
  void RemoveObserved(const VersionVector& observed, const ValueContext& ctx);
  // Drops element frontiers whose ops have all been applied. Only between ops: an op may add
  // two instances of one element, and a frontier must outlive the first.
  void PruneFrontiers(const VersionVector& applied) { frontiers_.Prune(applied); }

  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  bool Empty() const { return fields_.empty() && frontiers_.empty(); }
  const Field* Find(std::string_view name) const { return fields_.Find(name); }
  const Field& at(size_t i) const { return fields_.at(i); }
  // Visible value of a field.
  std::string_view ValueOf(const Field& f, const RegionTable& regions) const {
    return f.reg.Value(regions);
  }
  // Redis 7.0's encoding: listpack (insertion order kept) while at most 512 fields and no field
  // name or value longer than 64 bytes was written, else hashtable (it never goes back).
  bool listpack() const { return fields_.ordered(); }
  void set_hashtable() { fields_.set_unordered(); }
  Stamp Newest(const RegionTable& regions) const;
  // Sum of ElementDigest(field, visible value) over the fields.
  const Digest128& digest() const { return digest_; }

  void ToState(v1::HashState* out) const;
  static absl::Status FromState(const v1::HashState& in, const std::vector<RegionId>& dict,
                                const RegionTable& regions, HashValue* out);
  void Join(const HashValue& remote, const JoinSide& here, const JoinSide& there,
            const ValueContext& ctx);

 private:
  // Brackets a change of field `f` (null: absent) for the digest: Before() takes its element
  // digest away, After() adds the new one or drops the field when nothing is left of it.
  Field* Before(std::string_view name, const RegionTable& regions);
  void After(Field* f, const RegionTable& regions);
  Field* GetOrAdd(std::string_view name);
  void NoteWrite(std::string_view name, std::string_view value);

  ElementTable<Field> fields_;
  ElementFrontiers frontiers_;
  Digest128 digest_;
};

template <>
struct ValueTraits<HashValue> {
  using State = v1::HashState;
  using Element = HashValue::Field;
  static constexpr auto kAdd = &HashValue::Set;
  static constexpr auto kSmallEncoding = &HashValue::listpack;
  static constexpr auto kSetLargeEncoding = &HashValue::set_hashtable;
};
static_assert(CheckCollectionValue<HashValue>());

}  // namespace activekv::crdt
