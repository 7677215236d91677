// FHIR narrative XHTML rules (FHIR R4 Narrative, invariants txt-1 and
// txt-2; the FHIRPath htmlChecks() function).
//
// The check is a single pass over the text, without building a DOM:
//  * well-formed XML: matching start/end tags, every attribute quoted and
//    given a value, no raw '<' in attribute values, only the five XML
//    entities and numeric references to legal XML characters, no
//    processing instructions, DOCTYPE or CDATA, no "--" inside comments,
//    no "]]>" in text, no control characters;
//  * only the basic HTML 4.0 formatting elements of chapters 7-11 and 15,
//    plus `a` and `img` (no script, form, object, iframe, map, ...);
//  * only the global attributes (title, style, class, id, lang, dir,
//    accesskey, tabindex, xmlns and the table-cell attributes) and a few
//    element-specific ones (a.href, a.name, img.src/alt/..., table.*); so
//    no event attributes (onclick, ...) and no prefixed attributes; every
//    xmlns declaration must be the XHTML namespace;
//  * a document has exactly one root element, `div`;
//  * some non-whitespace text, or an img with a src (txt-2).
//
// Thread-safety: pure function.
#ifndef GENOGATE_CONFORMANCE_FHIRPATH_HTML_CHECKS_H_
#define GENOGATE_CONFORMANCE_FHIRPATH_HTML_CHECKS_H_

#include <string>
#include <string_view>

namespace genogate::fhirpath {

// Returns "" when `xhtml` meets the rules, else the first problem found.
// With `fragment`, the text is the content of a div (no root element).
std::string CheckNarrativeXhtml(std::string_view xhtml, bool fragment = false);

}  // namespace genogate::fhirpath

#endif  // GENOGATE_CONFORMANCE_FHIRPATH_HTML_CHECKS_H_
