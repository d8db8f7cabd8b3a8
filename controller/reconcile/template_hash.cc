#include "controller/reconcile/template_hash.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace reef::reconcile {
namespace {

uint32_t Fnv1a(uint32_t hash, std::string_view bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 16777619u;
  }
  return hash;
}

}  // namespace

std::string TemplateHash(const v1::PodTemplateSpec& tmpl, std::optional<int32_t> collision_count) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    tmpl.SerializeToCodedStream(&coded);
  }
  uint32_t hash = Fnv1a(2166136261u, bytes);
  if (collision_count.has_value()) {
    uint32_t n = static_cast<uint32_t>(*collision_count);
    hash = Fnv1a(hash, std::string_view(reinterpret_cast<const char*>(&n), sizeof(n)));
  }
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string out = std::to_string(hash);
  for (char& c : out) c = kAlphabet[static_cast<unsigned char>(c) % kAlphabet.size()];
  return out;
}

}  // namespace reef::reconcile
