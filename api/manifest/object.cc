#include "api/manifest/object.h"

#include <google/protobuf/util/message_differencer.h>

namespace reef::manifest {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

const FieldDescriptor* KindField(const Object& object) {
  return object.GetReflection()->GetOneofFieldDescriptor(
      object, Object::descriptor()->FindOneofByName("kind"));
}

const FieldDescriptor* NamedField(const Message& m, const char* name) {
  return m.GetDescriptor()->FindFieldByName(name);
}

}  // namespace

const KindInfo* KindOf(const Object& object) {
  const FieldDescriptor* f = KindField(object);
  if (f == nullptr) return nullptr;
  for (const KindInfo& k : AllKinds()) {
    if (k.object_field == f->number()) return &k;
  }
  return nullptr;
}

Object NewObject(const KindInfo& kind) {
  Object o;
  const FieldDescriptor* f = Object::descriptor()->FindFieldByNumber(kind.object_field);
  o.GetReflection()->MutableMessage(&o, f);
  return o;
}

const Message& Inner(const Object& object) {
  return object.GetReflection()->GetMessage(object, KindField(object));
}

Message* MutableInner(Object* object) {
  return object->GetReflection()->MutableMessage(object, KindField(*object));
}

const ObjectMeta& Meta(const Object& object) {
  const Message& inner = Inner(object);
  return static_cast<const ObjectMeta&>(
      inner.GetReflection()->GetMessage(inner, NamedField(inner, "metadata")));
}

ObjectMeta* MutableMeta(Object* object) {
  Message* inner = MutableInner(object);
  return static_cast<ObjectMeta*>(
      inner->GetReflection()->MutableMessage(inner, NamedField(*inner, "metadata")));
}

std::string DisplayName(const Object& object) {
  const KindInfo* kind = KindOf(object);
  const ObjectMeta& meta = Meta(object);
  std::string name = meta.namespace_().empty() ? meta.name()
                                               : reef::StrCat(meta.namespace_(), "/", meta.name());
  return reef::StrCat(kind ? kind->kind : "Object", " ", name);
}

std::string ResourceName(const Object& object) {
  const KindInfo* kind = KindOf(object);
  return reef::StrCat(kind ? kind->group_resource : "object", "/", Meta(object).name());
}

bool SameSpec(const Object& a, const Object& b) {
  if (KindOf(a) != KindOf(b)) return false;
  Object ca = a, cb = b;
  MutableMeta(&ca)->Clear();
  MutableMeta(&cb)->Clear();
  ClearStatus(&ca);
  ClearStatus(&cb);
  return google::protobuf::util::MessageDifferencer::Equals(ca, cb);
}

void CopyStatus(const Object& from, Object* to) {
  const Message& src = Inner(from);
  Message* dst = MutableInner(to);
  const FieldDescriptor* f = NamedField(src, "status");
  if (f == nullptr || dst->GetDescriptor() != src.GetDescriptor()) return;
  if (src.GetReflection()->HasField(src, f)) {
    dst->GetReflection()->MutableMessage(dst, f)->CopyFrom(src.GetReflection()->GetMessage(src, f));
  } else {
    dst->GetReflection()->ClearField(dst, f);
  }
}

void ClearStatus(Object* object) {
  Message* inner = MutableInner(object);
  const FieldDescriptor* f = NamedField(*inner, "status");
  if (f != nullptr) inner->GetReflection()->ClearField(inner, f);
}

bool Equal(const Object& a, const Object& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

}  // namespace reef::manifest
