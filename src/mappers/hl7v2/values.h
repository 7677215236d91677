// Internal helpers of the HL7 v2 mapper: HL7 data type checks and
// conversions to FHIR text forms. Not part of the public API.
//
// Thread-safety: pure functions.
#ifndef GENOGATE_MAPPERS_HL7V2_VALUES_H_
#define GENOGATE_MAPPERS_HL7V2_VALUES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mappers/common/genomic_report.h"
#include "mappers/hl7v2/er7.h"

namespace genogate::mappers::hl7v2::internal {

// HL7 NM: [+|-]digits[.digits] (no exponent).
bool IsNumeric(std::string_view s);
// A whole number in int64 range (NM with no fraction, or "12.0"? no: only
// digits with an optional sign).
std::optional<int64_t> ParseInteger(std::string_view s);
// HL7 DT: YYYY[MM[DD]].
bool IsHl7Date(std::string_view s);
// HL7 DTM/TS component 1: YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ].
bool IsHl7DateTime(std::string_view s);

// HL7 DTM -> FHIR dateTime ("2024-03-01T10:15:00+01:00"). A time without a
// UTC offset takes `default_offset` ("+00:00") or, when that is empty, is
// dropped (date only) and *time_dropped is set. nullopt if `s` is not a
// valid DTM.
std::optional<std::string> ToFhirDateTime(std::string_view s,
                                          std::string_view default_offset,
                                          bool* time_dropped);
// HL7 DT/DTM -> FHIR date (time of day dropped).
std::optional<std::string> ToFhirDate(std::string_view s);

// HL7 coding system name (table 0396 and the genomics guides' names:
// "LN", "HGNC", "RefSeq", "HGVS", "SO", "dbSNP", "ClinVar", "SCT", "HL7nnnn")
// -> FHIR system URL. A name that already is a URI is returned as is;
// "urn:oid:" is added to a bare OID; an unknown local name is returned
// unchanged (the FHIR builder may map it).
std::string CodingSystemUrl(std::string_view name);
// True for the names of LOINC ("LN", "LOINC", "http://loinc.org").
bool IsLoincSystem(std::string_view name);

// A CWE/CE/CNE (a field's first repetition, or a repetition) as a Coding,
// the alternate triplet (components 4-6) used when the first is empty, or
// preferred when `prefer_loinc` and only the alternate is LOINC.
Coding ToCoding(const Element& cwe, bool prefer_loinc = false);

// `s` shortened to at most `max` characters with control characters shown
// as '?', in double quotes; for quoting result values in problem reasons.
std::string Quote(std::string_view s, size_t max = 40);

}  // namespace genogate::mappers::hl7v2::internal

#endif  // GENOGATE_MAPPERS_HL7V2_VALUES_H_
