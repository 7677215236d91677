// libFuzzer target: the MLLP decoder on arbitrary byte streams cut at
// arbitrary points; checks that messages round-trip through the encoder and
// that the split does not change what is decoded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mappers/hl7v2/ack.h"
#include "mappers/hl7v2/mllp.h"

using namespace genogate::mappers::hl7v2;  // NOLINT: fuzz driver

namespace {

std::vector<MllpEvent> Run(std::string_view bytes, size_t step,
                           size_t max_size) {
  MllpOptions o;
  o.max_message_bytes = max_size;
  MllpDecoder d(o);
  for (size_t i = 0; i < bytes.size(); i += step) d.Feed(bytes.substr(i, step));
  d.Finish();
  std::vector<MllpEvent> out;
  while (auto e = d.Next()) out.push_back(std::move(*e));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t step = 1 + data[0] % 17;
  size_t max_size = 16 + data[0] * 8;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<MllpEvent> whole = Run(bytes, bytes.size() + 1, max_size);
  std::vector<MllpEvent> cut = Run(bytes, step, max_size);
  if (whole.size() != cut.size()) std::abort();
  AckOptions ack_options;
  ack_options.control_id = "F";
  for (size_t i = 0; i < whole.size(); ++i) {
    if (whole[i].kind != cut[i].kind || whole[i].payload != cut[i].payload ||
        whole[i].offset != cut[i].offset) {
      std::abort();
    }
    if (whole[i].kind == MllpEvent::kMessage) {
      if (whole[i].payload.size() > max_size) std::abort();
      genogate::Result<std::string> framed = MllpEncode(whole[i].payload);
      if (!framed.ok()) std::abort();
      std::vector<MllpEvent> again = Run(*framed, framed->size(), max_size);
      if (again.size() != 1 || again[0].payload != whole[i].payload) {
        std::abort();
      }
    } else {
      (void)BuildFramingAck(whole[i], ack_options);
    }
  }
  return 0;
}
