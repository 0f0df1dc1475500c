#include "crdt/op_builder.h"

namespace activekv::crdt {
namespace {

void StampOp(const Keyspace& ks, Hlc hlc, std::string_view key, bool with_context, v1::Op* op) {
  op->set_origin(ks.local_name());
  op->set_seq(ks.applied().Get(ks.local()) + 1);
  op->set_hlc(hlc);
  op->set_key(key.data(), key.size());
  if (with_context) {
    const VersionVector& vv = ks.applied();
    for (RegionId r = 0; r < vv.size(); ++r) {
      if (r == ks.local() || vv.Get(r) == 0) continue;
      v1::VersionEntry* e = op->add_context();
      e->set_region(ks.regions().Name(r));
      e->set_seq(vv.Get(r));
    }
  }
}

}  // namespace

void MakeSetOp(const Keyspace& ks, Hlc hlc, std::string_view key, std::string_view value,
               v1::ExpiryChange::Kind expiry, int64_t deadline_ms, v1::Op* op) {
  StampOp(ks, hlc, key, true, op);
  v1::SetValue* set = op->mutable_set();
  set->set_value(value.data(), value.size());
  if (expiry != v1::ExpiryChange::KEEP) {
    set->mutable_expiry()->set_kind(expiry);
    set->mutable_expiry()->set_deadline_ms(deadline_ms);
  }
}

void MakeDeleteOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op) {
  StampOp(ks, hlc, key, true, op);
  op->mutable_del();
}

void MakeIncrementOp(const Keyspace& ks, Hlc hlc, std::string_view key, int64_t delta, v1::Op* op) {
  StampOp(ks, hlc, key, false, op);
  op->mutable_add()->set_delta(delta);
}

void MakeFloatIncrementOp(const Keyspace& ks, Hlc hlc, std::string_view key,
                          std::string_view delta_text, v1::Op* op) {
  StampOp(ks, hlc, key, false, op);
  op->mutable_add()->set_float_delta(delta_text.data(), delta_text.size());
}

void MakeExpireOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::ExpiryChange::Kind kind,
                  int64_t deadline_ms, v1::Op* op) {
  StampOp(ks, hlc, key, true, op);
  v1::ExpiryChange* e = op->mutable_expire()->mutable_expiry();
  e->set_kind(kind);
  e->set_deadline_ms(deadline_ms);
}

void MakeFlushOp(const Keyspace& ks, Hlc hlc, v1::Op* op) {
  StampOp(ks, hlc, "", true, op);
  op->mutable_flush();
}

void MakeFlushDbOp(const Keyspace& ks, Hlc hlc, uint32_t ns, v1::Op* op) {
  StampOp(ks, hlc, "", true, op);
  op->set_db(ns);
  op->mutable_flush()->set_one_db(true);
}

void MakeSwapDbOp(const Keyspace& ks, Hlc hlc, const DbMapping& mapping, v1::Op* op) {
  StampOp(ks, hlc, "", false, op);
  for (uint32_t ns : mapping) op->mutable_swapdb()->add_mapping(ns);
}

void MakeFunctionOp(const Keyspace& ks, Hlc hlc, std::string_view name, std::string_view code,
                    v1::Op* op) {
  StampOp(ks, hlc, "", false, op);
  v1::FunctionLibrary* f = op->mutable_function();
  f->set_name(std::string(name));
  f->set_code(std::string(code));
}

void MakeHashSetOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op) {
  StampOp(ks, hlc, key, true, op);
  op->mutable_hset();
}

void MakeHashDelOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op) {
  StampOp(ks, hlc, key, true, op);
  op->mutable_hdel();
}

void MakeSetAddOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op) {
  StampOp(ks, hlc, key, true, op);
  op->mutable_sadd();
}

void MakeSetRemoveOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op) {
  StampOp(ks, hlc, key, true, op);
  op->mutable_srem();
}

void AddHashElement(std::string_view field, std::string_view value, v1::Op* op) {
  v1::Element* e =
      op->has_hset() ? op->mutable_hset()->add_fields() : op->mutable_hdel()->add_fields();
  e->set_name(field.data(), field.size());
  if (op->has_hset()) e->set_value(value.data(), value.size());
}

void AddSetElement(std::string_view member, v1::Op* op) {
  v1::Element* e =
      op->has_sadd() ? op->mutable_sadd()->add_members() : op->mutable_srem()->add_members();
  e->set_name(member.data(), member.size());
}

void MakeHashIncrementOp(const Keyspace& ks, Hlc hlc, std::string_view key, std::string_view field,
                         int64_t delta, std::string_view delta_text, v1::Op* op) {
  StampOp(ks, hlc, key, false, op);
  v1::HashIncrement* inc = op->mutable_hincr();
  inc->set_field(field.data(), field.size());
  if (delta_text.empty()) {
    inc->set_delta(delta);
  } else {
    inc->set_float_delta(delta_text.data(), delta_text.size());
  }
}

void MakeZsetAddOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op) {
  StampOp(ks, hlc, key, true, op);
  op->mutable_zadd();
}

void MakeZsetRemoveOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op) {
  StampOp(ks, hlc, key, true, op);
  op->mutable_zrem();
}

void AddZsetElement(std::string_view member, double score, v1::Op* op) {
  if (op->has_zadd()) {
    v1::ScoredElement* e = op->mutable_zadd()->add_members();
    e->set_name(member.data(), member.size());
    e->set_score(score);
  } else {
    op->mutable_zrem()->add_members()->set_name(member.data(), member.size());
  }
}

void MakeZsetIncrementOp(const Keyspace& ks, Hlc hlc, std::string_view key, std::string_view member,
                         double delta, v1::Op* op) {
  StampOp(ks, hlc, key, false, op);
  v1::ZsetIncrement* inc = op->mutable_zincr();
  inc->set_member(member.data(), member.size());
  inc->set_delta(delta);
}

namespace {

void SetLevel(const Keyspace& ks, const ListLevel& l, v1::ListLevel* out) {
  out->set_digit(l.digit);
  out->set_region(ks.regions().Name(l.tag.region));
  out->set_seq(l.tag.seq);
  out->set_idx(l.tag.idx);
}

void SetRef(const Keyspace& ks, const ListValue::Element& e, v1::ListRef* out) {
  for (uint32_t i = 0; i < e.depth; ++i) SetLevel(ks, e.prefix[i], out->add_prefix());
  SetLevel(ks, e.own, out->mutable_own());
}

}  // namespace

void MakeListInsertOp(const Keyspace& ks, Hlc hlc, std::string_view key,
                      const ListValue::Placement& placement, v1::Op* op) {
  StampOp(ks, hlc, key, false, op);
  v1::ListInsert* ins = op->mutable_linsert();
  for (const ListLevel& l : placement.prefix) SetLevel(ks, l, ins->add_prefix());
  ins->set_digit(placement.digit);
}

void AddListValue(std::string_view value, v1::Op* op) {
  op->mutable_linsert()->add_values(value.data(), value.size());
}

void MakeListRemoveOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op) {
  StampOp(ks, hlc, key, false, op);
  op->mutable_lrem();
}

void AddListRef(const Keyspace& ks, const ListValue::Element& element, v1::Op* op) {
  SetRef(ks, element, op->mutable_lrem()->add_elements());
}

void MakeListSetOp(const Keyspace& ks, Hlc hlc, std::string_view key,
                   const ListValue::Element& element, std::string_view value, v1::Op* op) {
  StampOp(ks, hlc, key, false, op);
  v1::ListSet* set = op->mutable_lset();
  SetRef(ks, element, set->mutable_element());
  set->set_value(value.data(), value.size());
}

void MakeStreamOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op) {
  StampOp(ks, hlc, key, false, op);
}

}  // namespace activekv::crdt
