#include "command_ops.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "crdt/op_builder.h"

namespace activekv::fuzz {

using crdt::AddHashElement;
using crdt::AddListValue;
using crdt::AddSetElement;
using crdt::AddZsetElement;
using crdt::DbMapping;
using crdt::Entry;
using crdt::Hlc;
using crdt::ListValue;
using crdt::StreamGroups;
using crdt::StreamId;
using crdt::StreamMeta;
using crdt::StreamValue;
using crdt::Tag;
using crdt::ValueType;

namespace {

ValueType TypeOf(const Replica& r, std::string_view key, uint32_t db) {
  const Entry* e = r.ks.Find(key, db);
  return e == nullptr || !e->Exists() ? ValueType::kNone : e->Type(r.ks.regions());
}

void SetMeta(const StreamMeta& m, v1::StreamMeta* out) {
  out->mutable_last_id()->set_ms(m.last_id.ms);
  out->mutable_last_id()->set_seq(m.last_id.seq);
  out->set_entries_added(m.entries_added);
  out->mutable_max_deleted_id()->set_ms(m.max_deleted.ms);
  out->mutable_max_deleted_id()->set_seq(m.max_deleted.seq);
}

}  // namespace

bool MakeCommandOp(Replica& r, FuzzInput* in, int* next_id, v1::Op* op) {
  const uint8_t kind = in->Byte();
  const uint8_t arg = in->Byte();
  const std::string key = "k" + std::to_string(arg % 3);
  const uint32_t db = (arg & 0x80) != 0 ? 1 : 0;
  const uint32_t ns = r.ks.NamespaceOf(db);
  const ValueType type = TypeOf(r, key, ns);
  const std::string value = "v" + std::to_string(++*next_id);
  const std::string elem = "e" + std::to_string((arg >> 2) % 4);
  const Hlc hlc = r.Tick();
  auto typed = [&](ValueType t) { return type == ValueType::kNone || type == t; };
  const Entry* entry = r.ks.Find(key, ns);
  switch (kind % 26) {
    case 0: {
      static constexpr v1::ExpiryChange::Kind kKinds[] = {
          v1::ExpiryChange::PERSIST, v1::ExpiryChange::DEADLINE, v1::ExpiryChange::KEEP};
      const auto k = kKinds[(arg >> 3) % 3];
      MakeSetOp(r.ks, hlc, key, value, k, k == v1::ExpiryChange::DEADLINE ? 2'000'000 + arg : 0,
                op);
      break;
    }
    case 1:
      MakeDeleteOp(r.ks, hlc, key, op);
      break;
    case 2:
      if (!typed(ValueType::kString)) return false;
      MakeIncrementOp(r.ks, hlc, key, static_cast<int8_t>(in->Byte()), op);
      break;
    case 3: {
      static constexpr const char* kFloats[] = {"0.5", "-1.25", "1e-3", "3"};
      if (!typed(ValueType::kString)) return false;
      MakeFloatIncrementOp(r.ks, hlc, key, kFloats[(arg >> 3) % 4], op);
      break;
    }
    case 4:
      MakeExpireOp(r.ks, hlc, key, v1::ExpiryChange::DEADLINE, 2'000'000 + in->Byte(), op);
      break;
    case 5:
      MakeExpireOp(r.ks, hlc, key, v1::ExpiryChange::PERSIST, 0, op);
      break;
    case 6:
      MakeFlushOp(r.ks, hlc, op);
      return true;
    case 7:
      MakeFlushDbOp(r.ks, hlc, ns, op);
      return true;
    case 8: {
      DbMapping m = r.ks.db_mapping();
      std::swap(m[0], m[1 + (arg >> 3) % 2]);
      MakeSwapDbOp(r.ks, hlc, m, op);
      return true;
    }
    case 9:
      MakeFunctionOp(r.ks, hlc, "lib" + std::to_string(arg % 2),
                     (arg & 4) != 0 ? "" : "#!lua name=lib\n" + value, op);
      return true;
    case 10:
    case 11:
      if (!typed(ValueType::kHash)) return false;
      if (kind % 26 == 10) {
        MakeHashSetOp(r.ks, hlc, key, op);
      } else {
        MakeHashDelOp(r.ks, hlc, key, op);
      }
      AddHashElement("f" + std::to_string(arg % 3), value, op);
      if ((arg & 8) != 0) AddHashElement("f" + std::to_string((arg >> 4) % 3), value + "x", op);
      break;
    case 12:
      if (!typed(ValueType::kHash)) return false;
      MakeHashIncrementOp(r.ks, hlc, key, "f" + std::to_string(arg % 3),
                          static_cast<int8_t>(in->Byte()), (arg & 8) != 0 ? "0.25" : "", op);
      break;
    case 13:
    case 14:
      if (!typed(ValueType::kSet)) return false;
      if (kind % 26 == 13) {
        MakeSetAddOp(r.ks, hlc, key, op);
      } else {
        MakeSetRemoveOp(r.ks, hlc, key, op);
      }
      AddSetElement(elem, op);
      if ((arg & 2) != 0) AddSetElement("e9", op);
      break;
    case 15:
    case 16:
      if (!typed(ValueType::kZset)) return false;
      if (kind % 26 == 15) {
        MakeZsetAddOp(r.ks, hlc, key, op);
      } else {
        MakeZsetRemoveOp(r.ks, hlc, key, op);
      }
      AddZsetElement(elem, static_cast<int8_t>(in->Byte()) / 4.0, op);
      break;
    case 17:
      if (!typed(ValueType::kZset)) return false;
      MakeZsetIncrementOp(r.ks, hlc, key, elem, static_cast<int8_t>(in->Byte()), op);
      break;
    case 18:
    case 19: {  // LPUSH / RPUSH (one or two values) or LINSERT
      if (!typed(ValueType::kList)) return false;
      static const ListValue kEmpty;
      const ListValue* l = entry != nullptr && entry->list() != nullptr ? entry->list() : &kEmpty;
      ListValue::Placement p;
      const size_t where = in->Byte();
      if (kind % 26 == 19 && !l->empty()) {
        if (!l->PlaceBefore(where % (l->size() + 1), &p).ok()) return false;
      } else {
        p = (where & 1) != 0 ? l->PlaceAtHead(hlc) : l->PlaceAtTail(hlc);
      }
      MakeListInsertOp(r.ks, hlc, key, p, op);
      AddListValue(value, op);
      if ((arg & 4) != 0) AddListValue(value + "b", op);
      break;
    }
    case 20:
    case 21: {  // LREM / LSET of element i
      const ListValue* l = entry != nullptr ? entry->list() : nullptr;
      if (type != ValueType::kList || l == nullptr || l->empty()) return false;
      const ListValue::Element& e = l->at(in->Byte() % l->size());
      if (kind % 26 == 20) {
        MakeListRemoveOp(r.ks, hlc, key, op);
        AddListRef(r.ks, e, op);
      } else {
        MakeListSetOp(r.ks, hlc, key, e, value, op);
      }
      break;
    }
    default: {  // streams: XADD, XDEL, XSETID, XGROUP CREATE / DESTROY
      if (!typed(ValueType::kStream)) return false;
      const StreamValue* s = entry != nullptr ? entry->stream() : nullptr;
      StreamMeta m = s != nullptr ? s->meta() : StreamMeta{};
      MakeStreamOp(r.ks, hlc, key, op);
      switch (kind % 26) {
        case 22: {
          const StreamId id{m.last_id.ms + 1 + (arg >> 4), 0};
          m.last_id = id;
          ++m.entries_added;
          v1::StreamEntry* e = op->mutable_xadd()->add_entries();
          e->mutable_id()->set_ms(id.ms);
          e->mutable_id()->set_seq(id.seq);
          e->add_fields("f");
          e->add_fields(value);
          SetMeta(m, op->mutable_xadd()->mutable_meta());
          break;
        }
        case 23: {
          if (s == nullptr || s->items().empty()) return false;
          auto it = s->items().begin();
          std::advance(it, in->Byte() % s->items().size());
          m.max_deleted = std::max(m.max_deleted, it->first);
          for (const StreamValue::Instance& i : it->second.instances) {
            v1::StreamRef* ref = op->mutable_xdel()->add_entries();
            ref->mutable_id()->set_ms(it->first.ms);
            ref->mutable_id()->set_seq(it->first.seq);
            ref->set_region(r.ks.regions().Name(i.tag.region));
            ref->set_seq(i.tag.seq);
            ref->set_idx(i.tag.idx);
          }
          SetMeta(m, op->mutable_xdel()->mutable_meta());
          break;
        }
        case 24:
          m.last_id.ms += arg;
          SetMeta(m, op->mutable_xmeta()->mutable_meta());
          break;
        default: {
          v1::StreamGroupChange* g = op->mutable_xgroup();
          g->set_group("g" + std::to_string(arg % 2));
          const StreamGroups::Group* grp = s != nullptr ? s->groups().Find(g->group()) : nullptr;
          if ((arg & 4) == 0 || grp == nullptr) {
            g->set_create(true);
            g->set_set_last(true);
            g->mutable_last_id()->set_ms(m.last_id.ms);
            g->set_entries_read(-1);
          } else {
            for (const Tag& t : grp->created) {
              v1::StreamTag* d = g->add_destroyed();
              d->set_region(r.ks.regions().Name(t.region));
              d->set_seq(t.seq);
              d->set_idx(t.idx);
            }
          }
        }
      }
      if (s == nullptr && !op->has_xadd() && !op->has_xgroup()) return false;
    }
  }
  op->set_db(ns);
  return true;
}

}  // namespace activekv::fuzz
