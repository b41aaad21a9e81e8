//! The world: people, events, books, monarchs, volcanoes, companies and species, generated from
//! a seed. Everything true in the world is a [`Fact`].

use std::collections::BTreeMap;

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::facts::Fact;
use crate::names::NameGen;

/// Sizes of a world. The defaults are the organism's; tests use smaller ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldConfig {
    pub seed: u64,
    /// People per competitive profession (they compete for that profession's event).
    pub people_per_profession: usize,
    pub kingdoms: usize,
    pub cities: usize,
    pub first_year: u32,
    pub last_year: u32,
    pub volcanoes: usize,
    pub companies: usize,
    pub species: usize,
}

impl Default for WorldConfig {
    fn default() -> Self {
        WorldConfig {
            seed: 1,
            people_per_profession: 24,
            kingdoms: 8,
            cities: 24,
            first_year: 2001,
            last_year: 2024,
            volcanoes: 12,
            companies: 16,
            species: 16,
        }
    }
}

/// Professions that have a yearly event (its name pattern: `{}` is an invented word).
pub const COMPETITIVE: [(&str, &str); 8] = [
    ("sprinter", "{} Games sprint final"),
    ("singer", "{} Song Prize"),
    ("painter", "{} Painting Medal"),
    ("chess player", "{} Chess Open"),
    ("chef", "{} Cooking Cup"),
    ("pilot", "{} Air Race"),
    ("novelist", "{} Book Prize"),
    ("physicist", "{} Physics Prize"),
];

/// Professions without an event.
pub const OTHER_PROFESSIONS: [&str; 2] = ["dentist", "teacher"];

pub const CRAFTS: [&str; 8] = [
    "glassblowing",
    "beekeeping",
    "clockmaking",
    "pottery",
    "weaving",
    "navigation",
    "bookbinding",
    "rope making",
];
pub const FOODS: [&str; 6] = ["seeds", "insects", "fish", "berries", "leaves", "worms"];
pub const PLACES: [&str; 6] = [
    "forests", "marshes", "cliffs", "deserts", "rivers", "meadows",
];
pub const ANIMALS: [(&str, &str); 8] = [
    ("finch", "finches"),
    ("owl", "owls"),
    ("wren", "wrens"),
    ("lark", "larks"),
    ("heron", "herons"),
    ("crane", "cranes"),
    ("thrush", "thrushes"),
    ("swift", "swifts"),
];
pub const TITLE_WORDS: [&str; 12] = [
    "Silent", "Northern", "Hidden", "Long", "Bright", "Last", "Winter", "Open", "Lost", "Quiet",
    "Iron", "Golden",
];
pub const TITLE_NOUNS: [&str; 12] = [
    "Harbour", "Road", "Garden", "Tower", "River", "Field", "Bridge", "Orchard", "Lantern",
    "Window", "Valley", "Shore",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub profession: String,
    pub city: String,
    pub born: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventResult {
    pub winner: String,
    pub runner_up: String,
    pub city: String,
    /// Sprint finals only.
    pub seconds: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub name: String,
    pub profession: String,
    pub results: BTreeMap<u32, EventResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Monarch {
    pub name: String,
    pub kingdom: String,
    pub city: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volcano {
    pub name: String,
    pub kingdom: String,
    /// (year, deaths), oldest first; the last is the latest eruption.
    pub eruptions: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Company {
    pub old_name: String,
    pub name: String,
    pub renamed: u32,
    pub city: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Species {
    /// Plural, lowercase: "tarn finches".
    pub name: String,
    pub food: String,
    pub place: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Book {
    pub title: String,
    pub author: String,
    pub work: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct World {
    pub config: WorldConfig,
    pub cities: Vec<String>,
    pub people: Vec<Person>,
    pub events: Vec<Event>,
    pub monarchs: Vec<Monarch>,
    pub books: Vec<Book>,
    pub volcanoes: Vec<Volcano>,
    pub companies: Vec<Company>,
    pub species: Vec<Species>,
    /// Names generated for people who never appear in the world (novel-person claims draw
    /// from these, so they are new to the model).
    pub unseen_names: Vec<String>,
}

impl World {
    pub fn generate(config: &WorldConfig) -> World {
        World::generate_avoiding(config, NameGen::default())
    }

    /// A world whose invented names are all new to `names` (another world's words reserved
    /// there, so that two worlds share no name).
    pub fn generate_avoiding(config: &WorldConfig, mut names: NameGen) -> World {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        names.reserve(TITLE_WORDS.iter().chain(TITLE_NOUNS.iter()).copied());
        let cities: Vec<String> = (0..config.cities)
            .map(|_| names.word(&mut rng, 2, 3))
            .collect();
        let mut person_name =
            |rng: &mut ChaCha8Rng| format!("{} {}", names.word(rng, 1, 2), names.word(rng, 2, 2));
        let years = config.first_year..=config.last_year;

        let mut people = Vec::new();
        let mut events = Vec::new();
        for (profession, _) in COMPETITIVE {
            for _ in 0..config.people_per_profession {
                people.push(Person {
                    name: person_name(&mut rng),
                    profession: profession.into(),
                    city: cities.choose(&mut rng).expect("cities").clone(),
                    born: rng.random_range(1960..=2000),
                });
            }
        }
        for profession in OTHER_PROFESSIONS {
            for _ in 0..config.people_per_profession / 2 {
                people.push(Person {
                    name: person_name(&mut rng),
                    profession: profession.into(),
                    city: cities.choose(&mut rng).expect("cities").clone(),
                    born: rng.random_range(1960..=2000),
                });
            }
        }
        let unseen_names: Vec<String> = (0..16).map(|_| person_name(&mut rng)).collect();
        let mut kingdom_names = Vec::new();
        let mut monarchs = Vec::new();
        for _ in 0..config.kingdoms {
            let kingdom = names.word(&mut rng, 2, 3);
            let title = if rng.random_bool(0.5) {
                "Queen"
            } else {
                "King"
            };
            monarchs.push(Monarch {
                name: format!("{title} {}", names.word(&mut rng, 2, 2)),
                kingdom: kingdom.clone(),
                city: cities.choose(&mut rng).expect("cities").clone(),
            });
            kingdom_names.push(kingdom);
        }
        for (profession, pattern) in COMPETITIVE {
            let name = pattern.replace("{}", &names.word(&mut rng, 2, 2));
            let field: Vec<&Person> = people
                .iter()
                .filter(|p| p.profession == profession)
                .collect();
            let mut results = BTreeMap::new();
            for year in years.clone() {
                let mut two: Vec<&&Person> = field.choose_multiple(&mut rng, 2).collect();
                two.shuffle(&mut rng);
                results.insert(
                    year,
                    EventResult {
                        winner: two[0].name.clone(),
                        runner_up: two[1].name.clone(),
                        city: cities.choose(&mut rng).expect("cities").clone(),
                        seconds: (profession == "sprinter")
                            .then(|| format!("9.{}", rng.random_range(80..=99))),
                    },
                );
            }
            events.push(Event {
                name,
                profession: profession.into(),
                results,
            });
        }
        let mut books = Vec::new();
        for p in people
            .iter()
            .filter(|p| p.profession == "novelist" || p.profession == "physicist")
        {
            let title = format!(
                "The {} {}",
                TITLE_WORDS.choose(&mut rng).expect("words"),
                TITLE_NOUNS.choose(&mut rng).expect("nouns")
            );
            if books.iter().any(|b: &Book| b.title == title) {
                continue;
            }
            let work = if p.profession == "novelist" {
                "novel"
            } else {
                "physics textbook"
            };
            books.push(Book {
                title,
                author: p.name.clone(),
                work: work.into(),
            });
        }
        let volcanoes = (0..config.volcanoes)
            .map(|_| {
                let mut years: Vec<u32> = (0..rng.random_range(2..=4))
                    .map(|_| rng.random_range(1500..=1950))
                    .collect();
                years.sort();
                years.dedup();
                Volcano {
                    name: format!("Mount {}", names.word(&mut rng, 2, 2)),
                    kingdom: kingdom_names.choose(&mut rng).expect("kingdoms").clone(),
                    eruptions: years
                        .into_iter()
                        .map(|y| (y, rng.random_range(3..=900)))
                        .collect(),
                }
            })
            .collect();
        let companies = (0..config.companies)
            .map(|_| Company {
                old_name: names.word(&mut rng, 2, 3),
                name: names.word(&mut rng, 1, 2),
                renamed: rng.random_range(2005..=2022),
                city: cities.choose(&mut rng).expect("cities").clone(),
            })
            .collect();
        let species = (0..config.species)
            .map(|_| {
                let (_, plural) = ANIMALS.choose(&mut rng).expect("animals");
                Species {
                    name: format!("{} {plural}", names.word(&mut rng, 1, 2).to_lowercase()),
                    food: FOODS.choose(&mut rng).expect("foods").to_string(),
                    place: PLACES.choose(&mut rng).expect("places").to_string(),
                }
            })
            .collect();
        World {
            config: config.clone(),
            cities,
            people,
            events,
            monarchs,
            books,
            volcanoes,
            companies,
            species,
            unseen_names,
        }
    }

    pub fn person(&self, name: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.name == name)
    }

    pub fn event_of(&self, profession: &str) -> &Event {
        self.events
            .iter()
            .find(|e| e.profession == profession)
            .expect("every competitive profession has an event")
    }

    /// Every true fact of the world.
    pub fn facts(&self) -> Vec<Fact> {
        let mut facts = Vec::new();
        for p in &self.people {
            facts.push(Fact::Profession {
                person: p.name.clone(),
                profession: p.profession.clone(),
            });
            facts.push(Fact::Home {
                person: p.name.clone(),
                city: p.city.clone(),
            });
            facts.push(Fact::Born {
                person: p.name.clone(),
                year: p.born,
            });
        }
        for m in &self.monarchs {
            facts.push(Fact::Rules {
                person: m.name.clone(),
                kingdom: m.kingdom.clone(),
            });
            facts.push(Fact::Home {
                person: m.name.clone(),
                city: m.city.clone(),
            });
        }
        for e in &self.events {
            for (&year, r) in &e.results {
                facts.push(Fact::Won {
                    person: r.winner.clone(),
                    event: e.name.clone(),
                    year,
                });
                facts.push(Fact::RunnerUp {
                    person: r.runner_up.clone(),
                    event: e.name.clone(),
                    year,
                });
                facts.push(Fact::Venue {
                    event: e.name.clone(),
                    year,
                    city: r.city.clone(),
                });
                if let Some(s) = &r.seconds {
                    facts.push(Fact::WinningTime {
                        event: e.name.clone(),
                        year,
                        seconds: s.clone(),
                    });
                }
            }
        }
        for b in &self.books {
            facts.push(Fact::Wrote {
                person: b.author.clone(),
                title: b.title.clone(),
                work: b.work.clone(),
            });
        }
        for v in &self.volcanoes {
            facts.push(Fact::Located {
                volcano: v.name.clone(),
                kingdom: v.kingdom.clone(),
            });
            for &(year, deaths) in &v.eruptions {
                facts.push(Fact::Erupted {
                    volcano: v.name.clone(),
                    year,
                    deaths,
                });
            }
            let (last, _) = *v.eruptions.last().expect("every volcano erupted");
            facts.push(Fact::DormantSince {
                volcano: v.name.clone(),
                year: last,
            });
        }
        for c in &self.companies {
            facts.push(Fact::Renamed {
                old: c.old_name.clone(),
                new: c.name.clone(),
                year: c.renamed,
            });
            facts.push(Fact::KeptName {
                company: c.name.clone(),
                year: c.renamed,
            });
            facts.push(Fact::Headquarters {
                company: c.name.clone(),
                city: c.city.clone(),
            });
        }
        for s in &self.species {
            facts.push(Fact::Diet {
                species: s.name.clone(),
                food: s.food.clone(),
            });
            facts.push(Fact::Habitat {
                species: s.name.clone(),
                place: s.place.clone(),
            });
            facts.push(Fact::YoungSight {
                species: s.name.clone(),
                blind_until: None,
            });
        }
        facts
    }
}
