// Throughput of the HL7 v2 path on a typical genetic ORU^R01 (a BRCA1
// germline panel: 2 variants, 37 OBX, about 3.5 KB): ER7 parse, ORU^R01
// extraction into GenomicReportInput, ACK building and MLLP decoding.
// Reports messages/s (items_per_second) and bytes/s.
#include <benchmark/benchmark.h>

#include <string>

#include "hl7v2_message.h"
#include "mappers/hl7v2/ack.h"
#include "mappers/hl7v2/er7.h"
#include "mappers/hl7v2/mllp.h"
#include "mappers/hl7v2/oru_r01.h"

namespace {

using namespace genogate::mappers::hl7v2;  // NOLINT: benchmark driver
using genogate::bench::Message;

void BM_Er7Parse(benchmark::State& state) {
  const std::string& m = Message();
  for (auto _ : state) {
    auto r = ParseEr7(m);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * m.size());
}
BENCHMARK(BM_Er7Parse);

void BM_ParseAndExtract(benchmark::State& state) {
  const std::string& m = Message();
  for (auto _ : state) {
    OruReadResult r = ReadOruR01(m);
    if (r.reports.size() != 1 || r.reports[0].input.variants.size() != 2) {
      state.SkipWithError("unexpected result");
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * m.size());
}
BENCHMARK(BM_ParseAndExtract);

void BM_ParseExtractAndAck(benchmark::State& state) {
  const std::string& m = Message();
  AckOptions o;
  o.control_id = "ACK-1";
  o.timestamp = "20240315103001+0100";
  for (auto _ : state) {
    OruReadResult r = ReadOruR01(m);
    std::string ack = BuildAck(r, o);
    benchmark::DoNotOptimize(ack);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseExtractAndAck);

void BM_MllpDecode(benchmark::State& state) {
  std::string stream;
  for (int i = 0; i < 100; ++i) stream += *MllpEncode(Message());
  for (auto _ : state) {
    MllpDecoder d;
    d.Feed(stream);
    size_t n = 0;
    while (auto e = d.Next()) n += e->payload.size();
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * 100);
  state.SetBytesProcessed(state.iterations() * stream.size());
}
BENCHMARK(BM_MllpDecode);

}  // namespace

BENCHMARK_MAIN();
