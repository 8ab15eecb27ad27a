//! Word lists for the generated names. Lists are ordered roughly from common to rare: the generator picks
//! early entries more often, so some search words hit many tracks and others only a few.

#[rustfmt::skip]
pub(super) const ADJECTIVES: &[&str] = &[
    "Blue", "Golden", "Wild", "Electric", "Silent", "Broken", "Midnight", "Sweet", "Lonely", "Crazy", "Little",
    "Dark", "Bright", "Endless", "Burning", "Frozen", "Velvet", "Neon", "Hidden", "Sacred", "Restless", "Silver",
    "Crimson", "Gentle", "Faded", "Lucky", "Heavy", "Tender", "Savage", "Hollow", "Secret", "Distant", "Quiet",
    "Rising", "Falling", "Shining", "Paper", "Glass", "Honey", "Cosmic", "Summer", "Winter", "Autumn", "Spring",
    "Northern", "Southern", "Electric", "Lost", "Brave", "Fearless", "Careless", "Perfect", "Strange", "Holy",
    "Ancient", "Modern", "Digital", "Analog", "Royal", "Rebel", "Desert", "Ocean", "Mountain", "Urban", "Rusty",
    "Shadow", "Crystal", "Magic", "Lazy", "Hungry", "Fragile", "Infinite", "Purple", "Scarlet", "Emerald", "Amber",
    "Ivory", "Copper", "Iron", "Wooden", "Marble", "Stormy", "Sunny", "Misty", "Dusty", "Starry", "Cloudy", "Wicked",
    "Humble", "Proud", "Ghostly", "Radiant", "Solar", "Lunar", "Polar", "Tropical", "Arctic", "Feral", "Mellow",
    "Brittle", "Luminous", "Obsidian", "Quixotic", "Zephyrine", "Cerulean", "Halcyon", "Vermilion", "Saffron",
];

#[rustfmt::skip]
pub(super) const NOUNS: &[&str] = &[
    "Love", "Heart", "Night", "Fire", "Dream", "Rain", "Sky", "Road", "River", "Light", "Moon", "Sun", "World",
    "Soul", "Star", "Home", "Life", "Time", "Girl", "Boy", "City", "Summer", "Ocean", "Wind", "Heaven", "Angel",
    "Shadow", "Memory", "Highway", "Garden", "Thunder", "Paradise", "Echo", "Horizon", "Window", "Mirror", "Train",
    "Letter", "Promise", "Secret", "Storm", "Island", "Kingdom", "Feather", "Diamond", "Rose", "Wolf", "Tiger",
    "Lion", "Raven", "Dove", "Butterfly", "Valley", "Canyon", "Harbor", "Bridge", "Tower", "Castle", "Street",
    "Avenue", "Station", "Engine", "Radio", "Television", "Machine", "Signal", "Voice", "Song", "Melody", "Rhythm",
    "Dance", "Party", "Weekend", "Morning", "Evening", "Sunset", "Sunrise", "Daylight", "Twilight", "Season",
    "Silence", "Whisper", "Tears", "Smile", "Kiss", "Touch", "Eyes", "Hands", "Lips", "Bones", "Blood", "Gold",
    "Silver", "Honey", "Sugar", "Coffee", "Wine", "Whiskey", "Cigarette", "Candle", "Lantern", "Compass", "Anchor",
    "Satellite", "Galaxy", "Planet", "Comet", "Meteor", "Nebula", "Orbit", "Gravity", "Magnet", "Circuit", "Pixel",
    "Carousel", "Lighthouse", "Avalanche", "Volcano", "Glacier", "Tundra", "Monsoon", "Labyrinth", "Chandelier",
    "Kaleidoscope", "Marionette", "Zeppelin", "Quasar", "Sarsaparilla", "Xylophone", "Juniper", "Mandolin",
];

#[rustfmt::skip]
pub(super) const VERBS: &[&str] = &[
    "Dancing", "Running", "Falling", "Waiting", "Dreaming", "Burning", "Flying", "Driving", "Chasing", "Holding",
    "Breaking", "Walking", "Singing", "Crying", "Fading", "Shining", "Calling", "Losing", "Finding", "Leaving",
    "Wandering", "Whispering", "Drifting", "Rolling", "Spinning", "Sleeping", "Waking", "Hiding", "Praying",
    "Remembering",
];

#[rustfmt::skip]
pub(super) const FIRST_NAMES: &[&str] = &[
    "Ava", "Liam", "Emma", "Noah", "Olivia", "Elijah", "Sophia", "James", "Mia", "Lucas", "Isabella", "Mateo",
    "Amelia", "Leo", "Harper", "Jack", "Evelyn", "Ezra", "Luna", "Miles", "Nora", "Caleb", "Zoe", "Theo", "Stella",
    "Oscar", "Hazel", "Felix", "Ruby", "Jasper", "Iris", "Silas", "Violet", "Hugo", "Clara", "Arlo", "Delia", "Otis",
    "Maya", "Rafael", "Yuki", "Kenji", "Aisha", "Omar", "Ines", "Marco", "Freya", "Soren", "Anya", "Dmitri", "Priya",
    "Ravi", "Lucia", "Diego", "Ingrid", "Lars", "Chloe", "Remy", "Tallulah", "Bartholomew",
];

#[rustfmt::skip]
pub(super) const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Lopez",
    "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson",
    "Hill", "Campbell", "Mitchell", "Carter", "Rivers", "Stone", "Fox", "Hart", "Wells", "Knight", "Frost", "Blake",
    "Nakamura", "Okafor", "Larsen", "Novak", "Costa", "Moreau", "Ivanova", "Kowalski", "Haddad", "Lindqvist",
    "Ferreira", "Castellanos", "Abernathy", "Featherstonehaugh",
];

/// Plural nouns for band names ("The Velvet Ravens").
#[rustfmt::skip]
pub(super) const BAND_NOUNS: &[&str] = &[
    "Kids", "Ravens", "Wolves", "Lights", "Kings", "Stones", "Rebels", "Ghosts", "Shadows", "Tigers", "Sparrows",
    "Lovers", "Riders", "Strangers", "Machines", "Echoes", "Satellites", "Foxes", "Pilots", "Dreamers", "Saints",
    "Sinners", "Brothers", "Sisters", "Monarchs", "Hounds", "Comets", "Drifters", "Outlaws", "Mariners",
];

#[rustfmt::skip]
pub(super) const TRACK_SUFFIXES: &[&str] = &[
    "(Remastered)", "(Live)", "(Acoustic)", "(Radio Edit)", "(Extended Mix)", "(Demo)", "(Remix)", "[Bonus Track]",
];

#[rustfmt::skip]
pub(super) const ALBUM_SUFFIXES: &[&str] = &[
    "(Deluxe Edition)", "(Remastered)", "(Expanded Edition)", "(Live)", "(Anniversary Edition)",
];

#[rustfmt::skip]
pub(super) const LABELS: &[&str] = &[
    "Mockingbird Records", "Blue Harbor Music", "Northern Lights Recordings", "Paper Moon Records", "Velvet Tone",
    "Static Bloom", "Copperline Music Group", "Half Note Audio", "Red Canyon Records", "Sunday Service Sounds",
    "Glasshouse Recordings", "Nightjar Records",
];

/// ISRC country prefixes, weighted towards the US by repetition.
#[rustfmt::skip]
pub(super) const ISRC_COUNTRIES: &[&[u8; 2]] = &[
    b"US", b"US", b"US", b"GB", b"GB", b"DE", b"FR", b"SE", b"CA", b"JP",
];

#[rustfmt::skip]
pub(super) const PODCAST_TOPICS: &[&str] = &[
    "History", "Science", "Comedy", "True Crime", "Business", "Technology", "Music", "Sports", "Health", "Film",
    "Books", "Politics", "Food", "Travel", "Design", "Parenting", "Gaming", "Nature", "Philosophy", "Money",
];

#[rustfmt::skip]
pub(super) const PLAYLIST_MOODS: &[&str] = &[
    "Chill", "Workout", "Focus", "Party", "Sleep", "Road Trip", "Morning", "Late Night", "Feel Good", "Rainy Day",
    "Throwback", "Fresh", "Essential", "Summer", "Dinner",
];
