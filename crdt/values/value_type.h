#pragma once

#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "crdt/digest.h"
#include "crdt/region_table.h"
#include "crdt/types.h"
#include "crdt/values/element_frontiers.h"
#include "crdt/values/tag.h"
#include "crdt/version_vector.h"

namespace activekv::crdt {

// The contract every collection value type meets (HashValue, SetValue, ZsetValue;
// docs/crdt-semantics.md, "Keys hold typed values"): the members Entry (entry.h, entry_state.cc)
// and Keyspace (keyspace.cc) call on a typed value. Checked at compile time by
// CheckCollectionValue<T>(), asserted next to each type, so a type whose signatures drift fails
// to build; tests/unit/crdt/value_type_test.cc runs one property suite over every type. Entry
// holds each type by its own pointer: no virtual dispatch.
//
// Element ops, one element of one op at a time; `ctx` is the key's ValueContext:
//   an add of element `name` (tag, HLC, the op's observed context, then `ctx`); its payload
//     differs per type, so ValueTraits<T>::kAdd names the member (HashValue::Set, SetValue::Add,
//     ZsetValue::Add)
//   void Remove(std::string_view name, const VersionVector& observed, const ValueContext& ctx)
// Whole-key removal (DEL, SET over the key, ...) and garbage collection:
//   void RemoveObserved(const VersionVector& observed, const ValueContext& ctx)
//     removes every instance whose dot `observed` covers
//   void PruneFrontiers(const VersionVector& applied)      only between ops
// Reading:
//   size_t size() const, bool empty() const              visible elements
//   bool Empty() const           no element and no removal knowledge: Entry frees the value
//   const Element* Find(std::string_view name) const, const Element& at(size_t i) const
//   Stamp Newest(const RegionTable& regions) const       its newest element (type conflicts)
//   const Digest128& digest() const   sum of ElementDigest(name, visible bytes) over the
//                                     elements, kept up to date by every change
// Snapshot form and state merge ("Snapshots and state merge"):
//   void ToState(State* out) const
//   static absl::Status FromState(const State& in, const std::vector<RegionId>& dict,
//                                 const RegionTable& regions, T* out)
//   void Join(const T& remote, const JoinSide& here, const JoinSide& there,
//             const ValueContext& ctx)
// Redis's encoding (OBJECT ENCODING; presentation only): ValueTraits<T>::kSmallEncoding (true
// while the small encoding holds: listpack, intset) and kSetLargeEncoding (it never goes back).
// Default-constructible, not copyable.
//
// ValueTraits<T>, specialised next to each type, names what differs between the types:
//   using State = v1::...State;       its snapshot message
//   using Element = ...;              what Find() and at() return
//   static constexpr auto kAdd = &T::...;
//   static constexpr auto kSmallEncoding = &T::...;
//   static constexpr auto kSetLargeEncoding = &T::...;
template <typename T>
struct ValueTraits;

namespace value_type_internal {

// True when Expr<T> is well-formed and is exactly R.
template <typename R, template <typename> class Expr, typename T, typename = void>
struct Returns : std::false_type {};
template <typename R, template <typename> class Expr, typename T>
struct Returns<R, Expr, T, std::enable_if_t<std::is_same_v<Expr<T>, R>>> : std::true_type {};

template <typename T>
using StateOf = typename ValueTraits<T>::State;
template <typename T>
using ElementOf = typename ValueTraits<T>::Element;

template <typename T>
using RemoveExpr = decltype(std::declval<T&>().Remove(std::declval<std::string_view>(),
                                                      std::declval<const VersionVector&>(),
                                                      std::declval<const ValueContext&>()));
template <typename T>
using RemoveObservedExpr = decltype(std::declval<T&>().RemoveObserved(
    std::declval<const VersionVector&>(), std::declval<const ValueContext&>()));
template <typename T>
using PruneFrontiersExpr =
    decltype(std::declval<T&>().PruneFrontiers(std::declval<const VersionVector&>()));
template <typename T>
using SizeExpr = decltype(std::declval<const T&>().size());
template <typename T>
using VisiblyEmptyExpr = decltype(std::declval<const T&>().empty());
template <typename T>
using EmptyExpr = decltype(std::declval<const T&>().Empty());
template <typename T>
using FindExpr = decltype(std::declval<const T&>().Find(std::declval<std::string_view>()));
template <typename T>
using AtExpr = decltype(std::declval<const T&>().at(size_t{0}));
template <typename T>
using NewestExpr = decltype(std::declval<const T&>().Newest(std::declval<const RegionTable&>()));
template <typename T>
using DigestExpr = decltype(std::declval<const T&>().digest());
template <typename T>
using ToStateExpr = decltype(std::declval<const T&>().ToState(std::declval<StateOf<T>*>()));
template <typename T>
using FromStateExpr = decltype(T::FromState(
    std::declval<const StateOf<T>&>(), std::declval<const std::vector<RegionId>&>(),
    std::declval<const RegionTable&>(), std::declval<T*>()));
template <typename T>
using JoinExpr = decltype(std::declval<T&>().Join(
    std::declval<const T&>(), std::declval<const JoinSide&>(), std::declval<const JoinSide&>(),
    std::declval<const ValueContext&>()));

// An element add: a member function taking the element's name first and the ValueContext last.
template <typename M>
struct IsElementAdd : std::false_type {};
template <typename C, typename... Args>
struct IsElementAdd<void (C::*)(Args...)>
    : std::bool_constant<
          sizeof...(Args) >= 2 &&
          std::is_same_v<std::tuple_element_t<0, std::tuple<Args...>>, std::string_view> &&
          std::is_same_v<std::tuple_element_t<sizeof...(Args) - 1, std::tuple<Args...>>,
                         const ValueContext&>> {};

}  // namespace value_type_internal

// The part of the contract every value type meets, sequences (ListValue) included: whole-key
// removal, pruning, size, the newest element, the digest, the snapshot form and state merge.
// `static_assert(CheckValue<T>())` after ValueTraits<T> (which names at least State).
template <typename T>
constexpr bool CheckValue() {
  namespace vt = value_type_internal;
  static_assert(std::is_default_constructible_v<T> && !std::is_copy_constructible_v<T>,
                "a value type is default-constructible and not copyable");
  static_assert(vt::Returns<void, vt::RemoveObservedExpr, T>::value,
                "void RemoveObserved(const VersionVector& observed, const ValueContext& ctx)");
  static_assert(vt::Returns<void, vt::PruneFrontiersExpr, T>::value,
                "void PruneFrontiers(const VersionVector& applied)");
  static_assert(vt::Returns<size_t, vt::SizeExpr, T>::value, "size_t size() const");
  static_assert(vt::Returns<bool, vt::VisiblyEmptyExpr, T>::value, "bool empty() const");
  static_assert(vt::Returns<bool, vt::EmptyExpr, T>::value, "bool Empty() const");
  static_assert(vt::Returns<Stamp, vt::NewestExpr, T>::value,
                "Stamp Newest(const RegionTable&) const");
  static_assert(vt::Returns<const Digest128&, vt::DigestExpr, T>::value,
                "const Digest128& digest() const");
  static_assert(vt::Returns<void, vt::ToStateExpr, T>::value, "void ToState(State*) const");
  static_assert(vt::Returns<absl::Status, vt::FromStateExpr, T>::value,
                "static absl::Status FromState(const State&, const std::vector<RegionId>& dict, "
                "const RegionTable&, T* out)");
  static_assert(vt::Returns<void, vt::JoinExpr, T>::value,
                "void Join(const T& remote, const JoinSide& here, const JoinSide& there, "
                "const ValueContext& ctx)");
  return true;
}

// Compile-time check of the whole contract above (collections keyed by element name);
// `static_assert(CheckCollectionValue<T>())` after ValueTraits<T>.
template <typename T>
constexpr bool CheckCollectionValue() {
  namespace vt = value_type_internal;
  using Traits = ValueTraits<T>;
  static_assert(CheckValue<T>());
  static_assert(vt::IsElementAdd<std::remove_const_t<decltype(Traits::kAdd)>>::value,
                "kAdd: void (T::*)(std::string_view name, ..., const ValueContext&)");
  static_assert(vt::Returns<void, vt::RemoveExpr, T>::value,
                "void Remove(std::string_view, const VersionVector&, const ValueContext&)");
  static_assert(vt::Returns<const vt::ElementOf<T>*, vt::FindExpr, T>::value,
                "const Element* Find(std::string_view) const");
  static_assert(vt::Returns<const vt::ElementOf<T>&, vt::AtExpr, T>::value,
                "const Element& at(size_t) const");
  static_assert(
      std::is_same_v<std::remove_const_t<decltype(Traits::kSmallEncoding)>, bool (T::*)() const>,
      "kSmallEncoding: bool (T::*)() const");
  static_assert(
      std::is_same_v<std::remove_const_t<decltype(Traits::kSetLargeEncoding)>, void (T::*)()>,
      "kSetLargeEncoding: void (T::*)()");
  return true;
}

}  // namespace activekv::crdt
