# ruff: noqa: E501  (data tables: one aspect per line reads better than wrapped lines)
"""The vocabulary of the synthetic review worlds: aspects, adjectives, detail phrases and sentence patterns.

Each domain lists at least 40 aspects. An aspect line reads
    name | surface words | adjective class | detail phrases
where the surface words are what a sentence calls the aspect (the record's `feature`), the adjective
class picks the positive and negative adjective pools, and the detail phrases are the item-specific
things an item may be known for ("the dumplings", "the rooftop pool").
Patterns hold the slots {t} (surface word), {a} (adjective) and {d} (detail phrase); {p} (the place)
and {v} (the come-back phrase) are filled per domain before any record is built.
"""

from __future__ import annotations

from dataclasses import dataclass

ADJECTIVES: dict[str, tuple[str, str]] = {
    # class: (positive pool, negative pool)
    "taste": (
        "delicious tasty flavorful scrumptious mouthwatering savory",
        "bland tasteless greasy overcooked soggy salty",
    ),
    "fresh": ("fresh crisp vibrant seasonal bright", "stale wilted limp tired frozen"),
    "friendly": (
        "friendly attentive welcoming courteous helpful warm",
        "rude dismissive inattentive unhelpful surly cold",
    ),
    "speed": ("quick prompt fast efficient swift", "slow sluggish endless delayed painful"),
    "price": ("reasonable affordable fair modest honest", "overpriced steep exorbitant outrageous inflated"),
    "size": ("generous huge hearty ample big", "tiny stingy skimpy meager small"),
    "clean": ("spotless clean immaculate tidy pristine", "dirty filthy grimy sticky dusty"),
    "comfort": ("comfortable cozy plush relaxing soft", "uncomfortable cramped lumpy stiff hard"),
    "look": ("beautiful stunning elegant charming gorgeous stylish", "drab dated tacky gloomy shabby ugly"),
    "quiet": ("quiet peaceful calm serene tranquil", "noisy loud deafening chaotic rowdy"),
    "music": ("lively upbeat pleasant memorable catchy", "grating annoying repetitive forgettable intrusive"),
    "space": ("spacious roomy airy large open", "cramped tiny claustrophobic poky narrow"),
    "location": ("convenient central perfect ideal handy", "remote inconvenient sketchy isolated awkward"),
    "view": ("breathtaking gorgeous stunning panoramic lovely", "obstructed bleak depressing ugly dull"),
    "quality": ("excellent superb outstanding impressive solid", "disappointing mediocre poor awful sloppy"),
    "drink": ("refreshing smooth balanced creative strong", "watery weak flat sour warm"),
    "variety": (
        "extensive varied diverse interesting thoughtful",
        "limited boring sparse repetitive uninspired",
    ),
    "ease": ("smooth easy effortless painless simple", "chaotic confusing tedious frustrating messy"),
    "spice": ("bold fiery balanced punchy aromatic", "overpowering harsh timid flat muddled"),
    "story": ("gripping compelling clever engaging original", "predictable convoluted dull incoherent lazy"),
    "acting": ("convincing brilliant nuanced powerful magnetic", "wooden hammy stiff unconvincing flat"),
    "writing": ("sharp witty natural crisp smart", "clunky cheesy stilted awkward trite"),
    "effects": ("spectacular seamless dazzling stunning flawless", "cheesy fake dated sloppy cheap"),
    "pacing": ("brisk tight relentless steady taut", "sluggish plodding dragging uneven choppy"),
    "humor": ("hilarious witty funny clever charming", "unfunny juvenile forced stale crude"),
    "emotion": ("moving touching heartfelt poignant tender", "sappy manipulative hollow mawkish shallow"),
    "scary": ("terrifying creepy chilling suspenseful eerie", "tame silly laughable toothless goofy"),
    "action": (
        "thrilling explosive electrifying intense kinetic",
        "clumsy chaotic boring incoherent repetitive",
    ),
    "length": ("tight brisk perfect compact lean", "bloated overlong exhausting padded endless"),
    "sound": ("crisp immersive booming clear rich", "muddy muffled tinny uneven distorted"),
    "mood": ("atmospheric immersive haunting moody rich", "lifeless bland confused flat sterile"),
    "tech": ("modern reliable fast new dependable", "outdated broken spotty unreliable ancient"),
    "relax": (
        "relaxing soothing heavenly rejuvenating blissful",
        "rushed lackluster underwhelming perfunctory tired",
    ),
    "smell": ("fresh pleasant fragrant clean lovely", "musty moldy smoky stale rank"),
    "pool": ("refreshing sparkling inviting heated gorgeous", "murky crowded freezing tiny grubby"),
    "violence": (
        "stylized restrained effective visceral purposeful",
        "gratuitous excessive gross pointless numbing",
    ),
}

RESTAURANT = """
food | food, cooking, cuisine | taste | the dumplings; the short rib; the fried chicken
service | service, staff, waiter | friendly | the head waiter; the owner; the hostess
price | price, bill, value | price | the lunch special; the happy hour deal; the set menu
portion | portion, serving, helping | size | the family platter; the giant burrito; the sharing board
ambiance | ambiance, atmosphere, vibe | look | the candlelit patio; the open kitchen; the neon sign
decor | decor, interior, design | look | the exposed brick; the mural wall; the velvet booths
cleanliness | cleanliness, restroom, bathroom | clean | the washrooms; the high chairs; the counters
wait | wait, queue, line | speed | the walk-in line; the weekend rush; the buzzer system
drinks | drinks, cocktail, beverage | drink | the mezcal margarita; the house sangria; the espresso martini
wine | wine, vintage, pour | drink | the pinot noir; the house red; the natural wines
coffee | coffee, espresso, latte | drink | the cold brew; the flat white; the cortado
dessert | dessert, cake, pastry | taste | the tiramisu; the lava cake; the creme brulee
bread | bread, baguette, focaccia | fresh | the sourdough; the garlic knots; the olive loaf
seafood | seafood, fish, shellfish | fresh | the grilled octopus; the oysters; the salmon tartare
steak | steak, beef, meat | taste | the ribeye; the wagyu burger; the brisket
pizza | pizza, crust, pie | taste | the margherita; the pepperoni slice; the white pie
sushi | sushi, sashimi, nigiri | fresh | the dragon roll; the toro; the omakase
salad | salad, greens, vegetables | fresh | the caesar; the beet salad; the kale bowl
soup | soup, broth, stew | taste | the pho; the miso soup; the french onion soup
noodles | noodles, pasta, spaghetti | taste | the pad thai; the carbonara; the dan dan noodles
breakfast | breakfast, brunch, pancakes | taste | the eggs benedict; the french toast; the avocado toast
spice | spice, heat, seasoning | spice | the chili oil; the vindaloo; the jerk rub
menu | menu, selection, choice | variety | the tasting menu; the chalkboard specials; the secret menu
music | music, playlist, band | music | the live jazz; the vinyl set; the acoustic duo
noise | noise, acoustics, volume | quiet | the back room; the bar area; the main hall
seating | seating, chairs, booth | comfort | the window seats; the corner booth; the bar stools
location | location, neighborhood, spot | location | the riverside terrace; the corner lot; the old market
parking | parking, garage, lot | ease | the valet stand; the back lot; the street meters
view | view, scenery, outlook | view | the sunset terrace; the skyline window; the garden courtyard
bar | bar, bartender, mixology | friendly | the whiskey shelf; the tiki bar; the rooftop bar
presentation | presentation, plating, garnish | look | the tasting board; the edible flowers; the smoking cloche
freshness | freshness, ingredients, produce | fresh | the farm vegetables; the daily catch; the herb garden
takeout | takeout, delivery, packaging | speed | the delivery app; the pickup window; the bento boxes
kids | children, kids, family | friendly | the crayons; the play corner; the kids menu
reservation | reservation, booking, table | ease | the online booking; the phone line; the waitlist
vegetarian | vegetarian, vegan, meatless | variety | the jackfruit tacos; the tofu curry; the veggie burger
authenticity | authenticity, tradition, heritage | quality | the family recipes; the clay oven; the hand pulled noodles
chef | chef, kitchen, cook | quality | the chef table; the open grill; the pastry chef
tea | tea, chai, matcha | drink | the oolong; the bubble tea; the masala chai
burger | burger, patty, bun | taste | the smash burger; the double cheeseburger; the bacon burger
fries | fries, chips, sides | taste | the sweet potato fries; the onion rings; the mac and cheese
sauce | sauce, dressing, gravy | taste | the house hot sauce; the chimichurri; the bearnaise
appetizer | appetizer, starter, snack | taste | the calamari; the bruschetta; the spring rolls
patio | patio, terrace, garden | comfort | the heated patio; the rooftop terrace; the beer garden
lighting | lighting, light, lamps | look | the candles; the chandeliers; the fairy lights
manager | manager, owner, host | friendly | the general manager; the founder; the maitre d
"""

MOVIE = """
plot | plot, story, storyline | story | the heist sequence; the final twist; the courtroom scene
acting | acting, performances, cast | acting | the lead actress; the young star; the veteran actor
lead | lead, protagonist, hero | acting | the reluctant hero; the title role; the rookie detective
villain | villain, antagonist, baddie | acting | the masked killer; the corrupt senator; the evil twin
dialogue | dialogue, script, lines | writing | the dinner argument; the opening monologue; the final speech
ending | ending, finale, conclusion | story | the last shot; the epilogue; the rooftop showdown
pacing | pacing, pace, tempo | pacing | the first act; the middle stretch; the last hour
effects | effects, cgi, visuals | effects | the dragon; the space battle; the city collapse
cinematography | cinematography, camerawork, photography | look | the long take; the desert shots; the night scenes
soundtrack | soundtrack, score, music | music | the main theme; the piano motif; the end credits song
humor | humor, jokes, comedy | humor | the wedding scene; the running gag; the talking dog
action | action, fights, stunts | action | the car chase; the hallway fight; the train sequence
romance | romance, chemistry, love | emotion | the first kiss; the airport goodbye; the dance scene
characters | characters, characterization, ensemble | writing | the two sisters; the best friend; the grumpy neighbor
direction | direction, director, filmmaking | quality | the opening sequence; the dream sequence; the single shot climax
editing | editing, cuts, montage | pacing | the training montage; the flashbacks; the parallel cuts
costumes | costumes, wardrobe, outfits | look | the ball gown; the armor; the period dresses
sets | sets, scenery, backdrop | look | the haunted mansion; the spaceship bridge; the castle hall
twist | twist, surprise, reveal | story | the identity reveal; the mid credits scene; the last minute turn
suspense | suspense, tension, thrills | action | the bomb countdown; the chase through the woods; the basement scene
horror | horror, scares, frights | scary | the attic scene; the mirror scare; the possession scene
emotion | emotion, heart, feelings | emotion | the hospital scene; the reunion; the funeral
message | message, theme, themes | writing | the climate subplot; the family theme; the war allegory
length | length, runtime, duration | length | the extended cut; the second half; the three hours
sound | sound, audio, mix | sound | the explosions; the whispering voices; the rainstorm scene
dubbing | dubbing, subtitles, translation | quality | the english dub; the songs in translation; the voice cast
animation | animation, artwork, drawing | look | the forest spirits; the water scenes; the hand drawn sequence
world | world, worldbuilding, universe | story | the floating city; the underground kingdom; the magic school
sequel | sequel, franchise, series | quality | the callbacks; the returning cast; the new villain
opening | opening, intro, beginning | story | the cold open; the title sequence; the prologue
development | development, arc, growth | writing | the redemption arc; the coming of age; the mentor relationship
supporting | supporting, sidekick, sidekicks | acting | the comic relief; the robot sidekick; the loyal friend
makeup | makeup, prosthetics, hair | look | the creature design; the aging makeup; the zombie horde
choreography | choreography, dance, dancing | action | the ballroom number; the sword duel; the street dance
realism | realism, accuracy, authenticity | quality | the battle scenes; the hospital details; the period detail
violence | violence, gore, blood | violence | the shootout; the final massacre; the torture scene
atmosphere | atmosphere, mood, tone | mood | the foggy harbor; the neon streets; the empty town
theater | theater, screen, seats | comfort | the imax screen; the recliner seats; the front row
tickets | tickets, admission, ticket | price | the matinee price; the imax upcharge; the student discount
extras | extras, commentary, bonus | variety | the deleted scenes; the blooper reel; the making of
cameo | cameo, cameos, guest | humor | the surprise cameo; the director cameo; the post credits cameo
narration | narration, narrator, voiceover | acting | the opening narration; the diary entries; the old man voice
production | budget, production, craftsmanship | quality | the practical effects; the miniature sets; the location shooting
songs | songs, numbers, musical | music | the opening number; the duet; the finale song
"""

HOTEL = """
room | room, suite, accommodation | space | the corner suite; the penthouse; the garden room
bed | bed, mattress, pillows | comfort | the pillow menu; the king bed; the memory foam mattress
bathroom | bathroom, shower, tub | clean | the rain shower; the soaking tub; the marble bathroom
cleanliness | cleanliness, housekeeping, maid | clean | the turndown service; the daily cleaning; the fresh linens
staff | staff, employees, personnel | friendly | the doorman; the night manager; the bellboy
reception | reception, desk, concierge | friendly | the front desk; the head concierge; the welcome drink
checkin | arrival, registration, checkout | ease | the express checkout; the early checkin; the late checkout
location | location, neighborhood, area | location | the old town; the harbor front; the shopping district
view | view, views, balcony | view | the harbor view; the mountain balcony; the skyline view
breakfast | breakfast, buffet, brunch | taste | the omelette station; the fresh waffles; the dim sum buffet
restaurant | restaurant, dining, dinner | taste | the rooftop restaurant; the steakhouse; the sushi counter
bar | bar, lounge, cocktails | drink | the lobby bar; the sky lounge; the happy hour
pool | pool, swimming, jacuzzi | pool | the rooftop pool; the infinity pool; the indoor pool
gym | gym, fitness, treadmill | tech | the fitness center; the yoga room; the weights room
spa | spa, massage, sauna | relax | the hot stone massage; the steam room; the couples treatment
wifi | wifi, internet, connection | tech | the free wifi; the business lounge; the streaming setup
noise | noise, soundproofing, walls | quiet | the street side; the elevator shaft; the nightclub downstairs
price | price, rate, value | price | the weekend rate; the member discount; the package deal
parking | parking, garage, valet | ease | the valet service; the underground garage; the free parking
lobby | lobby, entrance, foyer | look | the grand staircase; the atrium; the chandelier
decor | decor, furnishings, furniture | look | the art deco touches; the antique furniture; the local artwork
aircon | aircon, ac, heating | tech | the thermostat; the ceiling fan; the radiator
tv | tv, television, channels | tech | the smart tv; the movie channels; the sound bar
minibar | minibar, fridge, snacks | variety | the free snacks; the welcome fruit; the local chocolates
amenities | amenities, toiletries, towels | quality | the bathrobes; the slippers; the fancy shampoo
service | service, hospitality, attention | friendly | the room service; the butler service; the shoe shine
elevator | elevator, lift, elevators | speed | the glass elevator; the service lift; the express lift
shuttle | shuttle, transfer, airport | ease | the airport shuttle; the free bus; the water taxi
beach | beach, sand, shore | view | the private beach; the beach bar; the sun loungers
garden | grounds, courtyard, lawn | look | the rose garden; the koi pond; the palm courtyard
security | security, safe, safety | quality | the key cards; the night guard; the in room safe
family | kids, children, family | friendly | the kids club; the family suite; the babysitting service
pets | pets, dogs, pet | friendly | the dog beds; the pet menu; the dog walking service
business | business, meeting, conference | ease | the meeting rooms; the business center; the printing service
smell | smell, odor, scent | smell | the lobby scent; the hallway carpet; the smoking floor
size | size, space, layout | space | the studio layout; the separate living room; the walk in closet
windows | windows, curtains, blackout | comfort | the floor to ceiling windows; the blackout blinds; the sliding doors
coffee | coffee, kettle, espresso | drink | the nespresso machine; the lobby cafe; the coffee corner
luggage | luggage, bags, bellhop | speed | the luggage storage; the porter; the bag drop
accessibility | accessibility, wheelchair, ramp | ease | the accessible room; the ramp entrance; the grab bars
transport | transport, metro, subway | location | the metro station; the tram stop; the bus terminal
"""

POSITIVE_PATTERNS = """
the {t} was {a} .
the {t} was really {a} , i will definitely {v} .
{a} {t} and a great time overall .
loved the {a} {t} here .
what stood out was the {a} {t} .
honestly the {t} was {a} from start to finish .
i was impressed by how {a} the {t} was .
{a} {t} , would recommend {p} to anyone .
the {t} is {a} and worth every penny .
you can't beat the {a} {t} .
the {t} here is consistently {a} .
such {a} {t} , i can't wait to {v} .
really {a} {t} , it made the whole experience .
my favorite part was the {a} {t} .
the best thing about {p} is the {a} {t} .
we were blown away by the {a} {t} .
the {t} felt {a} and well thought out .
{p} gets the {t} right , it is {a} .
five stars for the {a} {t} .
the {t} was surprisingly {a} .
{a} {t} , exactly what i was hoping for .
can't say enough about the {a} {t} .
the {t} alone makes {p} worth it , so {a} .
great experience thanks to the {a} {t} .
the {t} was {a} , no complaints at all .
i keep thinking about the {a} {t} .
everything about the {t} was {a} .
the {t} was just {a} , highly recommended .
a {a} {t} that exceeded my expectations .
the {t} is as {a} as people say .
two words : {a} {t} .
{p} delivers {a} {t} every time .
"""

NEGATIVE_PATTERNS = """
the {t} was {a} .
the {t} was really {a} , i will not {v} .
{a} {t} ruined the whole experience .
sadly the {t} was {a} .
the {t} was {a} and nobody seemed to care .
i was disappointed by how {a} the {t} was .
{a} {t} , would not recommend {p} .
the {t} is {a} and not worth the money .
the {t} here is consistently {a} .
such {a} {t} , what a letdown .
the worst part was the {a} {t} .
the biggest problem with {p} is the {a} {t} .
we were put off by the {a} {t} .
the {t} felt {a} and careless .
{p} gets the {t} wrong , it is {a} .
one star for the {a} {t} .
the {t} was surprisingly {a} .
{a} {t} , not what i was hoping for .
i can't get past the {a} {t} .
the {t} alone makes {p} not worth it , so {a} .
a bad experience because of the {a} {t} .
the {t} was {a} , plenty of complaints .
everything about the {t} was {a} .
the {t} was just {a} , avoid it .
a {a} {t} that fell short of my expectations .
the {t} is as {a} as people warned .
two words : {a} {t} .
{p} delivers {a} {t} every time .
honestly the {t} was {a} from start to finish .
do not expect much , the {t} is {a} .
the {t} was {a} and that says it all .
i regret going , the {t} was {a} .
"""

POSITIVE_DETAIL_PATTERNS = """
the {t} was {a} , especially {d} .
{d} was the highlight , such {a} {t} .
do not miss {d} , the {t} is {a} .
{a} {t} , and {d} is a must .
we loved {d} and the {a} {t} .
the {a} {t} and {d} made our day .
{d} shows how {a} the {t} is .
come for {d} , stay for the {a} {t} .
"""

NEGATIVE_DETAIL_PATTERNS = """
the {t} was {a} , especially {d} .
{d} was the low point , such {a} {t} .
skip {d} , the {t} is {a} .
{a} {t} , and {d} was a mess .
we hated {d} and the {a} {t} .
the {a} {t} and {d} ruined our day .
{d} shows how {a} the {t} is .
avoid {d} , the {t} was {a} .
"""

POSITIVE_TAILS = """
, overall {p} is a gem
and the rest was good too
, we will {v} soon
, a real treat
and i would tell my friends
, worth the trip
, simply great
and overall a lovely time
"""

NEGATIVE_TAILS = """
, overall {p} is a mess
and the rest was no better
, a real shame
and i would warn my friends
, not worth the trip
, simply bad
and overall a miserable time
, big regrets
"""

DOMAIN_WORDS: dict[str, tuple[str, str]] = {
    # domain: ({p} the place, {v} the come-back phrase)
    "restaurant": ("this place", "come back"),
    "movie": ("this movie", "watch it again"),
    "hotel": ("this hotel", "stay here again"),
}
DOMAIN_ASPECTS = {"restaurant": RESTAURANT, "movie": MOVIE, "hotel": HOTEL}
DOMAINS: tuple[str, ...] = tuple(DOMAIN_ASPECTS)


@dataclass(frozen=True)
class Aspect:
    name: str
    terms: tuple[str, ...]
    adjective_class: str
    details: tuple[str, ...]


@dataclass(frozen=True)
class Domain:
    name: str
    aspects: tuple[Aspect, ...]
    patterns: dict[tuple[bool, int], tuple[str, ...]]  # (has_detail, sentiment) -> patterns
    tails: dict[int, tuple[str, ...]]  # sentiment -> optional closing clauses (inserted before the " .")


def _lines(block: str) -> list[str]:
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


def load_domain(name: str) -> Domain:
    """Parse one domain's tables; ValueError on a malformed line or a surface word used twice."""
    if name not in DOMAIN_ASPECTS:
        raise ValueError(f"unknown domain {name!r}; choose one of {', '.join(DOMAINS)}")
    aspects: list[Aspect] = []
    seen: dict[str, str] = {}
    for line in _lines(DOMAIN_ASPECTS[name]):
        aspect, terms, cls, details = (part.strip() for part in line.split("|"))
        term_list = tuple(t.strip() for t in terms.split(","))
        for t in term_list:
            if t in seen:
                raise ValueError(f"{name}: surface word {t!r} used by {seen[t]!r} and {aspect!r}")
            seen[t] = aspect
        if cls not in ADJECTIVES:
            raise ValueError(f"{name}: aspect {aspect!r} names unknown adjective class {cls!r}")
        aspects.append(Aspect(aspect, term_list, cls, tuple(d.strip() for d in details.split(";"))))
    place, again = DOMAIN_WORDS[name]

    def fill(block: str) -> tuple[str, ...]:
        return tuple(p.replace("{p}", place).replace("{v}", again) for p in _lines(block))

    patterns = {
        (False, 1): fill(POSITIVE_PATTERNS),
        (False, -1): fill(NEGATIVE_PATTERNS),
        (True, 1): fill(POSITIVE_DETAIL_PATTERNS),
        (True, -1): fill(NEGATIVE_DETAIL_PATTERNS),
    }
    tails = {1: fill(POSITIVE_TAILS), -1: fill(NEGATIVE_TAILS)}
    for group in patterns.values():
        for p in group:
            if not p.endswith(" ."):
                raise ValueError(f"pattern {p!r} must end with ' .'")
    return Domain(name, tuple(aspects), patterns, tails)
