#include "agent/image/content_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <set>

#include "absl/strings/str_format.h"
#include "agent/image/json_fields.h"
#include "common/files.h"

namespace reef::agent::image {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kLayoutFile = "oci-layout";
constexpr std::string_view kLayoutContent = R"({"imageLayoutVersion":"1.0.0"})";
constexpr std::string_view kIndexFile = "index.json";
constexpr uint64_t kMaxIndexBytes = 16 << 20;
// containerd's annotation for the full image name; OCI's ref.name holds the tag.
constexpr std::string_view kImageNameAnnotation = "io.containerd.image.name";
constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
constexpr int kBlobMode = 0444;

absl::Status SyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(reef::StrCat("open ", path), errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(reef::StrCat("fsync ", path), err);
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(reef::StrCat("write ", path), errno);
    }
    bytes.remove_prefix(n);
  }
  return absl::OkStatus();
}

// The tag of a canonical name, for OCI's ref.name ("" for a digest-only name).
std::string TagOf(const std::string& name) {
  const size_t at = name.find('@');
  const std::string_view base = std::string_view(name).substr(0, at);
  const size_t colon = base.rfind(':');
  const size_t slash = base.rfind('/');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) {
    return "";
  }
  return std::string(base.substr(colon + 1));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ContentStore>> ContentStore::Open(const std::string& root) {
  std::unique_ptr<ContentStore> store(new ContentStore(root));
  RETURN_IF_ERROR(MakeDirs(root + "/blobs/sha256", 0755));
  RETURN_IF_ERROR(MakeDirs(store->IngestDir(), 0700));
  const std::string layout = reef::StrCat(root, "/", kLayoutFile);
  if (::access(layout.c_str(), F_OK) != 0) {
    RETURN_IF_ERROR(WriteFileAtomic(layout, kLayoutContent, 0644));
  }
  RETURN_IF_ERROR(store->LoadIndex());
  return store;
}

std::string ContentStore::Path(const Digest& digest) const {
  return reef::StrCat(root_, "/blobs/sha256/", digest.hex());
}

std::string ContentStore::IngestDir() const { return root_ + "/ingest"; }

std::string ContentStore::IngestPath(const Digest& digest) const {
  return reef::StrCat(IngestDir(), "/", digest.hex(), ".partial");
}

bool ContentStore::Has(const Digest& digest) const {
  return !digest.empty() && ::access(Path(digest).c_str(), F_OK) == 0;
}

absl::Status ContentStore::Ingest(const std::string& file, const Digest& digest, int64_t size,
                                  Verify verify) {
  auto discard = [&](absl::Status why) {
    ::unlink(file.c_str());
    return why;
  };
  const std::string what = reef::StrCat("blob ", digest.ToString());
  struct stat st;
  if (::stat(file.c_str(), &st) != 0) return ErrnoStatus(reef::StrCat("stat ", file), errno);
  if (size >= 0 && st.st_size != size) {
    return discard(
        absl::DataLossError(absl::StrFormat("%s: %d bytes, expected %d", what, st.st_size, size)));
  }
  if (verify == Verify::kHash) {
    ASSIGN_OR_RETURN(Digest got, DigestOfFile(file));
    if (got != digest) return discard(DigestMismatch(what, digest, got));
  }
  if (Has(digest)) return discard(absl::OkStatus());
  // Durable content before a durable name: fsync the file, rename, fsync the folder.
  ::chmod(file.c_str(), kBlobMode);
  RETURN_IF_ERROR(SyncPath(file, O_RDONLY));
  const std::string path = Path(digest);
  if (::rename(file.c_str(), path.c_str()) != 0) {
    return ErrnoStatus(reef::StrCat("rename ", file, " to ", path), errno);
  }
  return SyncPath(root_ + "/blobs/sha256", O_RDONLY | O_DIRECTORY);
}

absl::Status ContentStore::Write(const Digest& digest, std::string_view bytes) {
  const Digest got = Digest::Of(bytes);
  if (got != digest) return DigestMismatch(reef::StrCat("blob ", digest.ToString()), digest, got);
  if (Has(digest)) return absl::OkStatus();
  // A unique temporary name: two pulls may write the same manifest at once.
  std::string tmp = IngestDir() + "/write-XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(reef::StrCat("create ", tmp), errno);
  absl::Status written = WriteAll(fd, bytes, tmp);
  ::close(fd);
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  return Ingest(tmp, digest, static_cast<int64_t>(bytes.size()), Verify::kTrustCaller);
}

absl::StatusOr<std::string> ContentStore::Read(const Digest& digest, uint64_t max_bytes) const {
  return ReadFileLimited(Path(digest), max_bytes);
}

absl::Status ContentStore::Delete(const Digest& digest) {
  const std::string path = Path(digest);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(reef::StrCat("remove ", path), errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Digest>> ContentStore::ListBlobs() const {
  std::vector<Digest> out;
  std::error_code ec;
  for (fs::directory_iterator it(root_ + "/blobs/sha256", ec), end; !ec && it != end;
       it.increment(ec)) {
    // Anything not named by a digest is not ours (a stray temp file, say).
    if (auto digest = Digest::FromHex(it->path().filename().string()); digest.ok()) {
      out.push_back(*std::move(digest));
    }
  }
  if (ec) return ErrnoStatus(reef::StrCat("list ", root_, "/blobs/sha256"), ec.value());
  return out;
}

absl::Status ContentStore::LoadIndex() {
  const std::string path = reef::StrCat(root_, "/", kIndexFile);
  auto content = ReadFileLimited(path, kMaxIndexBytes);
  if (absl::IsNotFound(content.status())) return absl::OkStatus();
  if (!content.ok()) return content.status();
  auto index = ParseIndex(*content);
  if (!index.ok()) return Annotate(index.status(), path);
  absl::MutexLock lock(&mu_);
  for (Descriptor& d : index->manifests) {
    auto name = d.annotations.find(std::string(kImageNameAnnotation));
    if (name == d.annotations.end()) continue;  // not one of ours
    images_[name->second] = std::move(d);
  }
  return absl::OkStatus();
}

absl::Status ContentStore::SaveIndexLocked() {
  json::Json manifests = json::Json::array();
  for (const auto& [name, descriptor] : images_) {
    Descriptor d = descriptor;
    d.platform.reset();
    d.annotations[std::string(kImageNameAnnotation)] = name;
    if (std::string tag = TagOf(name); !tag.empty()) {
      d.annotations[std::string(kRefNameAnnotation)] = tag;
    }
    manifests.push_back(DescriptorToJson(d));
  }
  json::Json doc = {{"schemaVersion", 2},
                    {"mediaType", std::string(media_type::kOciIndex)},
                    {"manifests", std::move(manifests)}};
  return WriteFileAtomic(reef::StrCat(root_, "/", kIndexFile), doc.dump(), 0644);
}

absl::Status ContentStore::SetImage(const std::string& name, const Descriptor& manifest) {
  absl::MutexLock lock(&mu_);
  images_[name] = manifest;
  return SaveIndexLocked();
}

std::optional<Descriptor> ContentStore::GetImage(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = images_.find(name);
  if (it == images_.end()) return std::nullopt;
  return it->second;
}

std::vector<StoredImage> ContentStore::ListImages() const {
  absl::MutexLock lock(&mu_);
  std::vector<StoredImage> out;
  for (const auto& [name, descriptor] : images_) out.push_back({name, descriptor});
  return out;
}

absl::Status ContentStore::RemoveImage(const std::string& name) {
  absl::MutexLock lock(&mu_);
  if (images_.erase(name) == 0) {
    return absl::NotFoundError(absl::StrFormat("image %s not found", name));
  }
  return SaveIndexLocked();
}

absl::StatusOr<GcResult> ContentStore::GarbageCollect() {
  // Mark: every blob reachable from a named image.
  std::set<Digest> live;
  std::vector<Descriptor> pending;
  for (const StoredImage& image : ListImages()) pending.push_back(image.manifest);
  while (!pending.empty()) {
    Descriptor d = std::move(pending.back());
    pending.pop_back();
    if (!live.insert(d.digest).second) continue;
    if (!IsIndexMediaType(d.media_type) && !IsManifestMediaType(d.media_type)) continue;
    auto bytes = Read(d.digest, kMaxIndexBytes);
    if (!bytes.ok()) continue;  // a missing manifest references nothing we can see
    if (IsIndexMediaType(d.media_type)) {
      if (auto index = ParseIndex(*bytes); index.ok()) {
        for (Descriptor& child : index->manifests) pending.push_back(std::move(child));
      }
    } else if (auto manifest = ParseManifest(*bytes); manifest.ok()) {
      pending.push_back(manifest->config);
      for (Descriptor& layer : manifest->layers) pending.push_back(std::move(layer));
    }
  }
  // Sweep.
  GcResult result;
  ASSIGN_OR_RETURN(std::vector<Digest> blobs, ListBlobs());
  for (const Digest& digest : blobs) {
    if (live.contains(digest)) continue;
    struct stat st;
    const uint64_t size = ::stat(Path(digest).c_str(), &st) == 0 ? st.st_size : 0;
    RETURN_IF_ERROR(Delete(digest));
    ++result.blobs_removed;
    result.bytes_freed += size;
  }
  std::error_code ec;
  for (fs::directory_iterator it(IngestDir(), ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ignored;
    fs::remove_all(it->path(), ignored);
  }
  return result;
}

}  // namespace reef::agent::image
