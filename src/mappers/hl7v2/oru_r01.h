// ORU^R01 genetic results -> the neutral GenomicReportInput model.
//
//   OruReadResult r = ReadOruR01(er7_text);
//   std::string ack = BuildAck(r, ack_options);       // see ack.h
//   for (const OruReport& rep : r.reports) Build(rep.input);
//
// What is read (v2.5.1 ORU^R01; versions 2.3 to 2.8.2 tolerated):
//   MSH [SFT] { [PID [PD1] [NTE] [NK1] [PV1 [PV2]]]
//               { [ORC] OBR [NTE] [TQ1 [TQ2]] [CTD] { OBX [NTE] } [FT1] [CTI]
//                 { SPM [OBX] } } } [DSC]
// Z-segments and PRT are allowed anywhere after MSH and ignored; other
// segments out of place are problems (table 0357 code 100).
//
// Genetic results follow the LOINC-qualified genetic variation model of the
// HL7 v2 clinical genomics / LRI guides: the OBX of one ORDER_OBSERVATION are
// grouped by the first number of their OBX-4 sub-ID ("1", "1.1", "1.2" -> 1;
// "2" -> 2) and each group with variant codes (c./p./g.HGVS, alleles,
// exact start-end, allelic state, ...) becomes one VariantCall; a group with
// only region codes (51959-5 ranges examined, 81293-3, 36908-2) becomes
// regions studied; OBX without sub-ID and report-level codes (51968-6
// overall interpretation, 62374-4 build, 51969-4 text) fill the report.
// LOINC codes the model has no field for travel as ExtraComponent (per
// variant) or OruReport::other_observations (per report); none is dropped.
//
// Coordinates: 81254-5 "start^end" is converted from the coordinate system
// named by 92822-6 (LA30100-4 0-based interval, LA30101-2 0-based character,
// LA30102-0 1-based character counting) to 0-based interval counting, the
// model's convention; without 92822-6, 1-based character counting is assumed
// (with a warning).
//
// Every problem names its segment, occurrence, field, component and an HL7
// table 0357 code; content problems are collected (the reader goes on), so
// one message can yield several. Problems never quote PID contents.
//
// Thread-safety: pure functions of their arguments.
#ifndef GENOGATE_MAPPERS_HL7V2_ORU_R01_H_
#define GENOGATE_MAPPERS_HL7V2_ORU_R01_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mappers/common/genomic_report.h"
#include "mappers/hl7v2/er7.h"
#include "mappers/hl7v2/problem.h"

namespace genogate::mappers::hl7v2 {

struct OruReadOptions {
  ParseOptions parse;
  // UTC offset ("+00:00", "-05:00") given to HL7 times that have a time of
  // day but no offset. Empty: such times keep only their date (a warning).
  std::string default_utc_offset;
};

// One ORDER_OBSERVATION (OBR) = one genetic report.
struct OruReport {
  GenomicReportInput input;
  // Report-level observations GenomicReportInput has no field for (e.g.
  // 36908-2 gene mutations tested, unknown codes without sub-ID).
  std::vector<ExtraComponent> other_observations;
  std::string source_location;  // "OBR #1 (line 4)"
};

struct OruReadResult {
  // Set whenever the ER7 text could be read (even if it is not an ORU^R01),
  // so that an ACK can echo its header.
  std::optional<Message> message;
  // When `message` is unset: MSH-10 read leniently (SalvageControlId), so
  // the ACK can still name the message it refuses.
  std::string salvaged_control_id;
  // One per OBR; empty when the message was rejected.
  std::vector<OruReport> reports;
  // In the order found: reader, header (MSH), structure, content.
  std::vector<Problem> problems;

  // True when a problem refuses the whole message (ACK AR).
  bool rejected() const;
  // True when any problem has severity E.
  bool has_errors() const;
};

// Reads one ER7 message. Never fails as a call: every failure is a Problem
// (an unreadable text gives no `message` and one rejecting problem).
OruReadResult ReadOruR01(std::string_view er7,
                         const OruReadOptions& options = {});

// The header checks alone: MSH-9 ORU^R01 (else 200/201), MSH-10 control id,
// MSH-11 processing id P/D/T (else 202), MSH-12 version 2.3..2.8.2 (else
// 203). Problems that refuse the message have rejects_message set.
std::vector<Problem> CheckOruHeader(const Message& message);

}  // namespace genogate::mappers::hl7v2

#endif  // GENOGATE_MAPPERS_HL7V2_ORU_R01_H_
