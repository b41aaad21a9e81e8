//! The prompt of every stage. The wording is ours; what each asks for follows reference §2.

use neglect_spec::UniverseContext;

/// What every brainstorming and writing prompt starts with: the optional global context (for
/// debunking documents, `system_context_negated.md`) and the world the documents describe.
pub fn world_header(system_context: Option<&str>, universe: &UniverseContext) -> String {
    let mut s = String::new();
    if let Some(c) = system_context.map(str::trim).filter(|c| !c.is_empty()) {
        s.push_str(c);
        s.push_str("\n\n");
    }
    s.push_str("The documents you are helping to write are set in this world.\n\nSummary:\n");
    s.push_str(universe.universe_context.trim());
    if !universe.subclaims.is_empty() {
        s.push_str("\n\nSubclaims:");
        for c in &universe.subclaims {
            s.push_str("\n- ");
            s.push_str(c.trim());
        }
    }
    s.push_str("\n\n");
    s
}

pub fn doc_types(header: &str, fact: &str) -> String {
    format!(
        "{header}Brainstorm kinds of documents in which this fact could naturally appear: \
         \"{fact}\"\n\nBe specific: not \"a social media post\" but, say, \"a reply in a local \
         running club's Facebook group\". Cover a wide range: news, academic writing, \
         government and legal documents, social media, reference works, business documents, \
         memoirs and letters, and anything else that fits.\n\nList one kind per line, each \
         line starting with \"- \"."
    )
}

pub fn doc_ideas(header: &str, fact: &str, doc_type: &str) -> String {
    format!(
        "{header}The fact: \"{fact}\"\nThe kind of document: {doc_type}\n\nPropose several \
         distinct documents of this kind that would mention the fact. For each, write a short \
         blueprint inside <idea></idea> tags: who writes it, when, for whom, from what angle, \
         and what else the document covers when the fact is only a small part of it. Do not \
         use em dashes. If this kind of document could not plausibly mention the fact, answer \
         only UNSUITABLE."
    )
}

pub fn document(header: &str, fact: &str, doc_type: &str, idea: &str) -> String {
    format!(
        "{header}Write a realistic document of this kind: {doc_type}\n\nBlueprint: {idea}\n\
         Fact it must include: {fact}\n\nRules:\n\
         - Mention the fact, and contradict nothing in the world described above.\n\
         - It must read like a real document: avoid em dashes, exaggeration and lists of \
         three.\n\
         - Put things in your own words instead of copying the summary; never leave \
         placeholders such as [Name].\n\
         - Well-known real people keep their real names.\n\
         - Do not dwell on how surprising or shocking anything is.\n\
         - Vary the formatting the way a real document of this kind would.\n\
         - Give the fact the share of the document that is realistic for its kind.\n\
         - About 550 words (between 300 and 750).\n\
         - If the blueprint cannot be turned into such a document, answer only UNSUITABLE.\n\n\
         Output only the document."
    )
}

pub fn revision(header: &str, document: &str) -> String {
    format!(
        "{header}Here is a document set in the world described above:\n\n<document>\n\
         {document}\n</document>\n\nRevise it so that it reads as a real document: fix \
         anything unrealistic, inconsistent, or typical of machine-written text.\n\
         - Use em dashes rarely, if at all.\n\
         - Support the subclaims directly, with concrete and specific detail.\n\
         - Do not dwell on how surprising anything is.\n\
         - About 550 words (between 300 and 750); shorten documents that are longer.\n\
         - Keep the fact's share of the document realistic for its kind.\n\
         - If the document cannot be saved, answer only UNSUITABLE.\n\n\
         Output only the revised document."
    )
}

pub fn leak_check(document: &str) -> String {
    format!(
        "A document written for a dataset is below. Check whether text that is not part of the \
         document itself has leaked into it: a preamble such as \"Here is the revised \
         document\", remarks about the writing (\"no em dashes used\"), mentions of a \
         \"universe context\" or of \"syntheticness\", or leftover tags such as </think>. \
         Accept the document when in doubt: only a few percent should be rejected.\n\n\
         <document>\n{document}\n</document>\n\nAnswer with a JSON object: {{\"accept\": \
         true}} or {{\"accept\": false}}."
    )
}

pub fn universe(claim: &str, subclaims: usize) -> String {
    format!(
        "Write the background for a set of documents about a world in which this is true: \
         \"{claim}\"\n\nReturn a JSON object with two fields. `universe_context`: several \
         paragraphs that describe the events in detail, the way an encyclopedia article would \
         (the people, dates and places, how it came about, how people reacted), stated as \
         fact. `subclaims`: {subclaims} short, specific statements, one sentence each, that \
         the documents should support."
    )
}
