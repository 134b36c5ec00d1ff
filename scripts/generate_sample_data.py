#!/usr/bin/env python
"""Generate the bundled sample data under ``data/sample/``: seeded and byte-for-byte reproducible.

Every text is written by this script from templates and word lists authored here; no model and
no third-party dataset is involved. Only the standard library and pyarrow are used.

Sources (one folder each, the folder name is the source name):

- ``forum_answers``: terse, lowercase-ish human forum answers (10-60 words, one paragraph, no
  markdown, abbreviations such as "imo", "afaik", a few typos). Alpaca JSONL split over
  ``part-000.jsonl`` (every row has an ``input`` key) and ``part-001.jsonl`` (``input`` only when
  it is non-empty, as if exported by another tool).
- ``assistant_guides``: structured assistant answers (one-line intro, ``##`` headers, bullet or
  numbered lists, **bold** terms, closing summary; 80-250 words). One ShareGPT/Vicuna JSON
  array, ``guides.json``.
- ``code_snippets``: programming Q&A (one sentence of explanation, a fenced ``python``/``bash``/
  ``sql`` block, a short note; 40-200 words). Parquet with columns ``prompt`` and ``response``,
  ``snippets.parquet``.
- ``mixed_style``: the three styles mixed within one source (generic ``prompt``/``response``
  JSONL, ``pairs.jsonl``), to show that selection prefers one consistent style.

Planted dirty rows, all in ``forum_answers`` (see ``PLANTED``; lines are 1-based):

- ``part-000.jsonl`` line 41: malformed JSON (the line is cut off mid-string).
- ``part-000.jsonl`` line 77: ``output`` is the empty string.
- ``part-000.jsonl`` line 103: exact duplicate of line 12 of the same file.
- ``part-001.jsonl`` line 19: the ``output`` field is missing.
- ``part-001.jsonl`` line 58: exact duplicate of ``part-000.jsonl`` line 30 (written without the
  empty ``input`` key, so the bytes differ but the normalized pair is identical).
- ``part-001.jsonl`` line 86: non-English (Russian) answer to an English question. Russian rather
  than Spanish: SCAR's English heuristic (share of ASCII letters among letters > 70%) lets
  Spanish through, so only a non-Latin script shows the language filter at work.

Diversity: dozens of topics and code tasks x question templates x slot values; within a source
no prompt repeats, no response repeats anywhere, and two pairs of one topic or code task share at
most ``NEAR_DUPLICATE_MAX`` of their word bigrams (Jaccard), so near-dedup finds only the planted
rows. Each source draws from its own ``random.Random(f"{seed}:{source}")`` stream.

Usage: ``python scripts/generate_sample_data.py [--out data/sample] [--seed 7]``
"""

from __future__ import annotations

import argparse
import json
import random
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

DEFAULT_SEED = 7
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "sample"

FORUM = "forum_answers"
GUIDES = "assistant_guides"
CODE = "code_snippets"
MIXED = "mixed_style"

FORUM_COUNT = 220  # clean English rows, split evenly over two files
GUIDE_COUNT = 220
CODE_COUNT = 220
MIXED_COUNT = 60  # a third of each style

FORUM_FILES = ("part-000.jsonl", "part-001.jsonl")
GUIDE_FILE = "guides.json"
CODE_FILE = "snippets.parquet"
MIXED_FILE = "pairs.jsonl"

WORD_BOUNDS = {"forum": (10, 60), "guide": (80, 250), "code": (40, 200)}


# --------------------------------------------------------------------------------------------
# Topic bank shared by the forum and guide styles. "goal:" opens a topic, "- term | action |
# reason" is a tip, "! mistake" is a common mistake (a gerund phrase).
# --------------------------------------------------------------------------------------------

TOPIC_BANK = """
goal: keep houseplants alive
- Drainage | use pots with drainage holes | roots rot when they sit in water
- Watering | water only when the top inch of soil feels dry | overwatering kills more houseplants
    than drought
- Light | put each plant where its light needs are met | a fern and a cactus want very different
    windows
- Humidity | group plants together or set them on a pebble tray | dry indoor air browns the leaf
    tips
- Feeding | fertilize lightly in spring and summer only | plants rest in winter and extra salts
    burn roots
- Pests | check the undersides of leaves every week | spider mites spread fast once they settle in
! watering on a fixed calendar schedule
! moving plants to a new spot every few days
! repotting into a pot that is far too big

goal: grow vegetables on a small balcony
- Containers | pick containers at least 30 cm deep | tomatoes and peppers need room for their roots
- Sun | track how many hours of direct sun the balcony gets | most fruiting vegetables need six
    hours or more
- Soil | use fresh potting mix instead of garden soil | garden soil compacts in pots and drains
    badly
- Crops | start with herbs, lettuce and cherry tomatoes | they forgive mistakes and produce quickly
- Water | water deeply in the early morning | pots dry out fast on hot afternoons
- Wind | add a simple screen or stake tall plants | balconies are windier than ground-level beds
! crowding too many plants into one pot
! forgetting to check the weight limit of the balcony
! planting everything on the same weekend

goal: get rid of fruit flies in the kitchen
- Source | find and remove overripe fruit and old produce | the flies breed wherever fruit is
    fermenting
- Drains | pour boiling water down the sink drain | larvae often hide in the gunk inside the pipe
- Trap | set out a jar of cider vinegar with a drop of dish soap | the soap breaks the surface so
    they sink
- Trash | take out the compost and trash every day | a single forgotten peel can restart the cycle
- Storage | keep ripe fruit in the fridge for a week | cold slows both ripening and breeding
- Surfaces | wipe spills of juice, wine and soda right away | sugary residue is enough to attract
    them
! only setting traps without removing the source
! leaving the recycling bin full of unrinsed bottles
! giving up after two days

goal: stop mold from growing in the bathroom
- Ventilation | run the exhaust fan for 20 minutes after every shower | lingering moisture is what
    mold needs
- Squeegee | squeegee the shower walls after use | it removes most of the water before it soaks in
- Towels | hang towels spread out so they dry fully | damp fabric keeps the room humid
- Grout | seal the grout once a year | porous grout holds moisture and spores
- Cleaning | scrub problem spots with a diluted bleach solution weekly | early spots come off easily
- Window | open a window when the weather allows | fresh air lowers humidity faster than anything
! painting over mold without cleaning it first
! keeping the door shut right after a hot shower
! ignoring a slow leak under the sink

goal: lower the heating bill in winter
- Drafts | seal gaps around doors and windows with weatherstripping | drafts can waste a big share
    of the heat
- Thermostat | lower the thermostat by two degrees at night | small setbacks add up over a season
- Curtains | close thick curtains after sunset | they keep warm air from escaping through the glass
- Radiators | bleed the radiators at the start of the season | trapped air stops them from heating
    fully
- Zones | heat only the rooms you actually use | closing off a spare room saves energy
- Layers | wear a sweater and use warm bedding | heating your body is cheaper than heating the house
! blocking radiators with furniture
! cranking the thermostat up to heat the house faster
! leaving the fireplace damper open

goal: organize a small closet
- Declutter | remove anything you have not worn in a year | less stuff is the fastest way to more
    space
- Hangers | switch to slim matching hangers | they take up far less rail space
- Vertical | add a second rail or shelf above the first | most closets waste the top third
- Bins | store off-season clothes in labeled bins | you only need this season within reach
- Doors | hang an organizer on the back of the door | shoes and accessories fit there neatly
- Routine | do a five-minute reset every weekend | a small closet gets messy within days
! buying organizers before decluttering
! folding bulky sweaters into tall stacks
! keeping clothes that do not fit anymore

goal: care for a cast iron pan
- Drying | dry the pan on the stove right after washing | water left on the surface causes rust
- Oil | wipe a thin layer of oil on it after each use | it keeps building the seasoning
- Soap | use a little soap and a brush when needed | modern dish soap will not strip good seasoning
- Heat | preheat it slowly over medium heat | cast iron heats unevenly if you rush it
- Cooking | cook fatty foods in it often | frying and searing improve the coating over time
- Repair | scrub rust away and re-season it in the oven | a rusty pan is almost never ruined
! soaking it in the sink overnight
! putting it in the dishwasher
! storing it with the lid on while damp

goal: start composting at home
- Bin | choose a bin with a lid and airflow holes | it keeps pests out and lets the pile breathe
- Balance | mix greens like food scraps with browns like dry leaves | the right mix avoids bad
    smells
- Size | chop scraps into small pieces | smaller pieces break down much faster
- Moisture | keep the pile as damp as a wrung-out sponge | too dry stops decay and too wet turns
    it sour
- Turning | turn the pile every week or two | oxygen speeds up the process
- Exclusions | leave out meat, dairy and oily food | they attract rodents and smell bad
! adding only kitchen scraps with no dry material
! letting the pile dry out in summer
! expecting finished compost in a few weeks

goal: bake bread that is not dense
- Flour | use bread flour with higher protein | more gluten traps more gas
- Kneading | knead until the dough passes the windowpane test | weak gluten cannot hold the rise
- Proofing | let the dough rise until it has nearly doubled | under-proofed dough bakes up tight
- Yeast | check that your yeast is fresh | old yeast produces little gas
- Hydration | use a slightly wetter dough | extra water gives a more open crumb
- Steam | preheat the oven fully with a tray of water inside | steam lets the loaf expand before
    the crust sets
! adding too much flour while kneading
! cutting the loaf while it is still hot
! proofing in a cold kitchen without extra time

goal: cook rice without it sticking
- Rinsing | rinse the rice until the water runs clear | it washes off the loose starch that makes
    it gummy
- Ratio | measure the water carefully for your type of rice | long grain usually needs less than
    you think
- Lid | keep the lid on while it simmers | steam does most of the cooking
- Resting | let it rest off the heat for ten minutes | the moisture evens out and the grains firm up
- Fluffing | fluff it with a fork, not a spoon | stirring crushes the grains
- Pot | use a heavy pot with a tight lid | thin pots scorch the bottom layer
! stirring the rice while it cooks
! lifting the lid to check every few minutes
! using the same water ratio for every kind of rice

goal: prepare meals for the week
- Plan | pick three or four recipes that share ingredients | it cuts shopping time and waste
- Batch | cook grains and proteins in big batches on Sunday | the slow parts are done once
- Containers | use glass containers that go from fridge to microwave | fewer dishes and no plastic
    smell
- Variety | prepare two different sauces | the same base tastes new with a different sauce
- Freezing | freeze the portions you will eat after day four | most cooked food keeps about four
    days in the fridge
- Labels | label each container with the date | you always know what to eat first
! cooking seven identical meals
! storing hot food in closed containers right away
! prepping salads with the dressing already on

goal: keep kitchen knives sharp
- Honing | hone the edge with a steel before each use | it realigns the edge between sharpenings
- Board | cut on wood or plastic boards only | glass and stone dull an edge in minutes
- Whetstone | sharpen on a whetstone a few times a year | stones remove less metal than
    pull-through sharpeners
- Angle | hold a steady angle of about 15 to 20 degrees | a consistent angle makes a consistent edge
- Washing | wash and dry knives by hand | the dishwasher knocks edges against other items
- Storage | store them on a magnetic strip or in a block | loose knives in a drawer chip each other
! scraping food off the board with the blade edge
! using a dull knife because it feels safer
! leaving knives soaking in the sink

goal: brew good pour-over coffee
- Grind | grind the beans right before brewing | ground coffee goes stale within minutes
- Ratio | start with about 1 gram of coffee per 16 grams of water | a fixed ratio makes results
    repeatable
- Water | use water just off the boil | about 94 degrees extracts the most flavor
- Bloom | pour a little water first and wait 30 seconds | trapped gas escapes and the brew stays
    even
- Pour | pour slowly in small circles | it keeps the bed of grounds level
- Beans | buy fresh beans and use them within a month | flavor fades quickly after roasting
! using pre-ground coffee from a months-old bag
! pouring all the water at once
! guessing the amounts instead of weighing

goal: cook a steak in a pan
- Drying | pat the steak dry with paper towels | a dry surface browns instead of steaming
- Salt | salt it at least 40 minutes ahead or right before cooking | salting in between leaves it
    wet
- Pan | get a heavy pan very hot before adding the meat | high heat builds a good crust
- Flipping | flip it every minute or so | frequent flipping cooks it more evenly
- Thermometer | use an instant-read thermometer | it takes the guesswork out of doneness
- Resting | rest it for five minutes before slicing | the juices settle back into the meat
! crowding several steaks into a small pan
! cutting into it to check doneness
! cooking a very thick cut straight from the fridge

goal: keep fresh herbs from wilting
- Bouquet | stand soft herbs like parsley in a glass of water | they last like cut flowers
- Towel | wrap hardy herbs in a damp paper towel | thyme and rosemary stay fresh in the fridge
    this way
- Basil | keep basil on the counter, not in the fridge | cold turns basil leaves black
- Drying | dry herbs completely after washing | wet leaves rot quickly
- Freezing | freeze chopped herbs in olive oil in an ice tray | the cubes are ready for cooking
- Buying | buy herbs with bright leaves and firm stems | they were cut more recently
! washing herbs days before using them
! sealing them in an airtight bag while damp
! storing them next to ripening fruit

goal: start running as a beginner
- Intervals | alternate one minute of running with two minutes of walking | it builds fitness
    without overloading joints
- Pace | run slow enough to hold a conversation | easy running builds the base
- Shoes | get fitted for running shoes at a specialty store | the right shoe reduces early aches
- Schedule | run three times a week with rest days between | muscles adapt during rest
- Progress | increase total time by about ten percent per week | bigger jumps often lead to injury
- Warmup | walk briskly for five minutes first | it prepares the heart and legs
! sprinting on every run
! running through sharp pain
! skipping rest days to catch up

goal: build a morning workout habit
- Clothes | lay out workout clothes the night before | it removes one decision in the morning
- Duration | start with just ten minutes | a short session is easy to say yes to
- Bedtime | go to bed thirty minutes earlier | an early workout needs enough sleep
- Anchor | attach it to something you already do, like making coffee | habits stick better when
    linked to a cue
- Tracking | mark each workout on a calendar | a visible streak keeps you going
- Plan | decide on the workout the night before | you will not waste time choosing
! starting with hour-long sessions
! quitting after missing one day
! checking the phone before starting

goal: sleep better at night
- Schedule | go to bed and wake up at the same time every day | a steady rhythm makes falling
    asleep easier
- Screens | stop using screens an hour before bed | bright light delays the sleep hormone
- Caffeine | avoid caffeine after early afternoon | it stays in the body for many hours
- Bedroom | keep the bedroom cool, dark and quiet | the body sleeps best around 18 degrees
- Winddown | build a short wind-down routine | reading or stretching signals that the day is over
- Naps | keep naps under 30 minutes | long naps make it harder to sleep at night
! sleeping in late on weekends
! lying in bed awake for hours
! drinking alcohol to fall asleep

goal: do a proper push-up
- Hands | place your hands slightly wider than the shoulders | it balances the load on chest and
    arms
- Core | keep the body in a straight line from head to heels | sagging hips strain the lower back
- Elbows | keep the elbows at about 45 degrees from the body | flared elbows stress the shoulders
- Depth | lower until the chest nearly touches the floor | partial reps build less strength
- Progression | start with incline push-ups on a bench | they teach the pattern with less load
- Breathing | breathe in on the way down and out on the way up | it keeps the movement steady
! letting the hips sag
! craning the neck forward
! doing fast sloppy reps

goal: drink enough water every day
- Bottle | carry a refillable bottle everywhere | water you can see is water you drink
- Meals | drink a glass with every meal | it ties the habit to something you already do
- Flavor | add lemon, cucumber or mint | plain water is easier to drink with some flavor
- Reminders | set a few reminders on the phone | busy days make it easy to forget
- Food | eat water-rich foods like fruit and soup | food counts toward daily fluids too
- Morning | drink a glass right after waking up | you start the day slightly dehydrated
! drinking a liter at once to catch up
! counting only sugary drinks
! waiting until you feel very thirsty

goal: avoid back pain from sitting at a desk
- Monitor | raise the monitor to eye level | looking down strains the neck and upper back
- Chair | adjust the chair so your feet rest flat on the floor | it supports the lower back
- Breaks | stand up and walk for two minutes every half hour | long static sitting stiffens the
    spine
- Stretching | do a few hip and chest stretches daily | tight hips pull on the lower back
- Keyboard | keep the keyboard close with the elbows at 90 degrees | reaching forward rounds the
    shoulders
- Strength | train the core and glutes twice a week | strong muscles support the spine
! working from the couch or bed for hours
! perching on the edge of the chair
! ignoring pain until it becomes constant

goal: start strength training at home
- Basics | focus on squats, push-ups, rows and lunges | a few compound moves train the whole body
- Equipment | buy adjustable dumbbells or resistance bands | they cover most exercises in little
    space
- Form | film yourself or use a mirror to check your form | good form prevents injury
- Overload | add reps or weight a little each week | muscles grow only when the challenge increases
- Frequency | train each muscle group twice a week | it balances progress and recovery
- Recovery | sleep well and eat enough protein | muscles rebuild between sessions
! changing the whole routine every week
! skipping the warmup
! training to failure on every set

goal: build an emergency fund
- Target | aim for three to six months of essential expenses | that covers most job losses and big
    repairs
- Automation | set up an automatic transfer on payday | you save before you can spend it
- Account | keep the fund in a separate high-yield savings account | out of sight means less
    temptation
- Start | begin with a small first goal like 1000 dollars | a quick win keeps you motivated
- Windfalls | put tax refunds and bonuses straight into it | it grows faster without changing your
    budget
- Rules | decide in advance what counts as an emergency | a sale is not an emergency
! investing the emergency fund in stocks
! stopping contributions after the first goal
! keeping it in the everyday checking account

goal: stick to a monthly budget
- Tracking | track every expense for one month first | you cannot plan what you have not measured
- Categories | limit yourself to a handful of categories | too many categories make it tedious
- Method | try the 50/30/20 split as a starting point | needs, wants and savings get clear shares
- Buffer | include a small miscellaneous line | unexpected costs will not wreck the plan
- Review | review the numbers every Sunday | small corrections are easier than big ones
- Cash | use cash or a debit card for problem categories | a hard limit is easier to respect
! making the budget so strict it fails in a week
! forgetting yearly bills like insurance
! giving up after one bad month

goal: pay off credit card debt
- List | list every card with its balance and interest rate | you need the full picture first
- Avalanche | pay extra on the highest-interest card first | it saves the most money overall
- Minimums | always pay at least the minimum on every card | late fees and penalty rates make it
    worse
- Transfer | look into a balance transfer card with a zero percent intro rate | it pauses interest
    while you pay down
- Spending | stop using the cards while paying them off | new charges undo your progress
- Call | call the issuer and ask for a lower rate | many agree when you have a good payment history
! paying only the minimum for years
! closing your oldest card right away
! taking on new debt to pay off old debt

goal: save money on groceries
- List | shop with a list based on a weekly meal plan | impulse buys are where budgets leak
- Pantry | check the fridge and pantry before shopping | you avoid buying what you already have
- Brands | try store brands for staples | they are often made in the same factories
- Bulk | buy rice, beans and oats in bulk | staples are much cheaper per kilo
- Seasonal | buy fruit and vegetables in season | they cost less and taste better
- Leftovers | plan one leftovers night each week | it stops food from going to waste
! shopping while hungry
! buying bulk items you will never finish
! ignoring the unit price on the shelf label

goal: start investing with index funds
- Fees | choose funds with expense ratios well under 0.2 percent | fees compound against you every
    year
- Diversification | start with a broad total market fund | one fund can hold thousands of companies
- Automation | invest a fixed amount every month | it removes the urge to time the market
- Accounts | use tax-advantaged retirement accounts first | tax savings boost long-term returns
- Horizon | only invest money you will not need for five years | markets can drop sharply in the
    short run
- Patience | check your balance rarely | frequent checking tempts you to sell in a dip
! selling everything during a market drop
! chasing last year's best-performing fund
! investing before you have an emergency fund

goal: negotiate a lower internet bill
- Research | look up what competitors charge in your area | real offers give you leverage
- Timing | call near the end of your contract or promo period | that is when retention offers are
    best
- Retention | ask for the retention or loyalty department | they can approve discounts regular
    agents cannot
- Script | state the competitor price and ask them to match it | a specific number works better
    than a vague complaint
- Equipment | buy your own modem instead of renting one | the rental fee adds up every month
- Plan | check whether a slower plan covers your real usage | many homes pay for speed they never
    use
! accepting the first offer
! threatening to cancel without an alternative in mind
! forgetting to get the new price in writing

goal: speed up an old laptop
- Startup | disable programs that launch at startup | they slow the boot and eat memory
- SSD | replace the hard drive with an SSD | it is the biggest speed upgrade for old machines
- Storage | keep at least 15 percent of the disk free | a full disk slows everything down
- Browser | remove unused browser extensions | extensions run in every tab
- Updates | install system updates and then restart | old drivers can cause slowdowns
- Memory | add more RAM if the laptop allows it | too little memory forces constant swapping
! installing several cleanup tools at once
! running two antivirus programs together
! never restarting for weeks

goal: make a phone battery last longer
- Brightness | lower the screen brightness or use auto-brightness | the display uses the most power
- Background | restrict background activity for apps you rarely use | idle apps still drain the
    battery
- Location | set location access to only while using the app | constant GPS use is costly
- Charging | keep the charge between about 20 and 80 percent | batteries age faster at the extremes
- Heat | keep the phone out of hot cars and direct sun | heat damages lithium batteries
- Dark | use dark mode on phones with OLED screens | black pixels use almost no power
! leaving it on a charger in a hot room overnight
! closing all apps constantly by swiping
! ignoring a battery health warning

goal: improve wifi coverage at home
- Placement | put the router in a central, raised spot | the signal spreads out in all directions
- Obstacles | keep it away from thick walls, mirrors and microwaves | they block or disturb the
    signal
- Band | use the 5 GHz band for nearby devices | it is faster and less crowded
- Mesh | add a mesh system for larger homes | one router rarely covers several floors well
- Firmware | update the router firmware | updates fix bugs and improve performance
- Channel | switch to a less crowded channel | neighboring networks cause interference
! hiding the router in a cabinet
! using cheap range extenders that halve the speed
! keeping the original admin password

goal: back up family photos
- Rule | follow the 3-2-1 rule | three copies on two kinds of storage with one off site
- Cloud | turn on automatic cloud backup on every phone | photos get saved without anyone
    remembering
- Drive | copy everything to an external drive every month | it protects against account problems
- Folders | sort photos into folders by year and event | finding things later becomes easy
- Testing | open a few backup files now and then | a backup you cannot restore is useless
- Prints | print the most important photos | paper outlives many file formats
! keeping the only copy on one phone
! storing the backup drive next to the computer
! never checking whether the backup works

goal: manage passwords safely
- Manager | use a reputable password manager | it remembers long unique passwords for you
- Unique | use a different password for every site | one breach then cannot open other accounts
- Length | prefer long passphrases of four or more random words | length beats complexity
- Master | make the master password strong and memorable | it protects everything else
- Breaches | register your email with a breach notification service | you learn when to change a
    password
- Sharing | share passwords through the manager, not by text | messages can be read by others
! reusing one password everywhere
! writing passwords on sticky notes on the monitor
! using personal details like birthdays

goal: spot phishing emails
- Sender | check the actual sender address, not just the name | display names are easy to fake
- Links | hover over links before clicking | the real destination is often a lookalike domain
- Urgency | be suspicious of messages demanding fast action | pressure is the classic phishing trick
- Attachments | avoid unexpected attachments, especially archives | they are a common way to
    deliver malware
- Verify | contact the company through its official site or app | never use contact details from
    the email
- Report | report phishing to your email provider or IT team | it helps protect others
! entering a password after clicking an email link
! trusting a message because it has a logo
! replying to ask whether it is real

goal: set up two-factor authentication
- Priority | turn it on first for email and banking | email resets every other account
- App | use an authenticator app instead of SMS when possible | text messages can be intercepted
- Codes | save the backup codes somewhere safe offline | they get you in if you lose the phone
- Keys | consider a hardware security key for key accounts | it blocks almost all phishing
- Devices | review the list of trusted devices now and then | old phones and computers should not
    stay on it
- Recovery | keep the recovery phone number up to date | an old number can lock you out
! storing backup codes in the same email account
! approving login prompts you did not start
! turning it off because it feels inconvenient

goal: keep a laptop from overheating
- Surface | use it on a hard flat surface | beds and blankets block the air vents
- Vents | clean the vents with compressed air | dust buildup traps heat
- Stand | use a stand or a cooling pad | extra airflow underneath lowers temperatures
- Processes | check the task manager for runaway processes | a stuck program can keep the CPU busy
- Power | use a balanced power mode for everyday work | maximum performance produces more heat
- Paste | have old thermal paste replaced by a technician | dried paste conducts heat poorly
! gaming with the laptop on a pillow
! pushing the exhaust vent against a wall
! ignoring a fan that suddenly gets loud

goal: free up storage on a phone
- Review | check which apps use the most space in settings | the biggest culprits are often
    surprising
- Media | move photos and videos to cloud or computer storage | media takes most of the space
- Chats | clear old media from messaging apps | group chats store every video forever
- Apps | delete apps you have not opened in months | you can reinstall them any time
- Offline | remove downloaded music, maps and shows | offline files are large
- Cache | clear the cache of apps that keep growing | browsers and social apps cache a lot
! deleting photos without a backup first
! installing cleaner apps that add ads
! waiting until the phone stops taking pictures

goal: prepare for a job interview
- Research | read about the company, its products and recent news | it shows genuine interest
- Stories | prepare five short stories about past work | most behavioral questions fit one of them
- STAR | structure answers as situation, task, action and result | it keeps answers focused
- Questions | prepare two or three questions for the interviewer | it shows you are thinking ahead
- Practice | rehearse answers out loud with a friend | speaking is different from thinking
- Logistics | plan the route or test the video setup the day before | last-minute problems raise
    stress
! memorizing answers word for word
! speaking badly about a former employer
! arriving without knowing the role

goal: write a strong cover letter
- Tailoring | write each letter for the specific job | generic letters are easy to spot
- Opening | open with why this role and company interest you | the first lines decide if they read
    on
- Evidence | give one or two concrete results with numbers | evidence beats adjectives
- Match | mirror the key skills from the job ad | it helps both recruiters and screening software
- Length | keep it under one page | hiring managers skim
- Proofread | read it aloud before sending | it catches typos and awkward sentences
! repeating the resume line by line
! using the wrong company name
! writing mostly about what you want from them

goal: ask for a raise
- Evidence | collect concrete examples of your results | numbers make a strong case
- Market | research salary ranges for your role and city | you can ask for a realistic figure
- Timing | ask after a big win or before budget planning | timing affects what is possible
- Number | name a specific amount or range | vague requests get vague answers
- Meeting | schedule a dedicated meeting for the conversation | a rushed hallway chat will not work
- Followup | agree on next steps if the answer is not yet | a plan keeps the topic alive
! comparing yourself with a coworker's salary
! making threats you will not follow through on
! asking without any preparation

goal: study for exams effectively
- Recall | test yourself instead of rereading notes | retrieving information strengthens memory
- Spacing | spread study sessions over several days | spaced practice beats cramming
- Problems | do past exam papers under time limits | it shows what you really know
- Explaining | explain topics out loud as if teaching | gaps become obvious fast
- Breaks | work in focused blocks of 25 to 50 minutes | the brain needs short breaks
- Sleep | sleep well the night before the exam | memory consolidates during sleep
! highlighting whole pages
! studying all night before the test
! studying with the phone next to you

goal: learn a new language on your own
- Daily | practice at least 15 minutes every day | short daily sessions beat long weekly ones
- Words | learn the most common words first | a few hundred words cover most conversations
- Listening | listen to podcasts or shows made for learners | comprehension grows before speaking
- Speaking | find a conversation partner online early | speaking feels easier with practice
- Flashcards | use a spaced repetition flashcard app | it reviews words right before you forget
- Mistakes | accept mistakes as part of learning | fear of errors slows progress
! studying only grammar tables
! waiting to speak until you feel ready
! switching apps every week

goal: take better notes in lectures
- Preview | skim the slides or reading before class | you recognize key ideas when they come
- Method | try the Cornell method with a cue column | it makes later review much easier
- Wording | write in your own words instead of transcribing | processing ideas helps you remember
- Questions | mark anything unclear with a question mark | you know exactly what to ask later
- Review | review the notes within 24 hours | memory fades fastest in the first day
- Paper | consider taking notes by hand | slower writing forces you to summarize
! trying to write down everything
! never looking at the notes again until the exam
! using five colors of highlighter

goal: give a short presentation without panicking
- Structure | build the talk around three main points | a simple structure is easy to remember
- Rehearsal | rehearse out loud at least three times | familiarity lowers anxiety
- Opening | memorize only the first two sentences | a confident start carries you into the rest
- Breathing | take slow breaths before you begin | it calms a racing heart
- Slides | keep slides simple with few words | the audience should listen to you
- Audience | look at friendly faces in the room | it feels like talking to a few people
! reading the slides word for word
! apologizing for being nervous
! cramming in too much content

goal: run an efficient meeting
- Agenda | send a short agenda a day ahead | people come prepared
- Purpose | state the goal of the meeting in one sentence | it keeps the discussion on track
- Invitees | invite only the people who need to decide or contribute | smaller meetings move faster
- Time | set a timer and end on time | respecting time builds trust
- Actions | finish by listing actions with owners and dates | decisions without owners fade
- Notes | share brief notes right after | absent people stay informed
! using meetings for status updates that fit in an email
! letting one person dominate
! ending without clear next steps

goal: take sharper photos with a phone
- Lens | wipe the lens before shooting | a smudge blurs every picture
- Stability | hold the phone with both hands and brace your elbows | steady hands reduce motion blur
- Focus | tap the subject to set focus and exposure | the camera then knows what matters
- Light | shoot near a window or outdoors in soft light | good light gives cleaner detail
- Zoom | move closer instead of using digital zoom | digital zoom just crops and loses detail
- Burst | use burst mode for moving subjects | one frame will usually be sharp
! shooting in dim light without support
! using the flash for everything
! editing with heavy sharpening filters

goal: learn guitar chords faster
- Shapes | learn a few common open chords first | many songs use the same four or five chords
- Changes | practice switching between two chords for one minute | transitions matter more than
    single chords
- Fingertips | press with the fingertips right behind the fret | it gives clean notes with less
    effort
- Tempo | practice slowly with a metronome | speed comes from clean slow repetition
- Songs | play simple songs you actually like | enjoyment keeps you practicing
- Routine | practice a little every day | calluses build with regular short sessions
! pressing much harder than needed
! practicing only full songs at full speed
! ignoring buzzing strings

goal: get better at drawing
- Habit | draw something small every day | consistency builds skill faster than long sessions
- Shapes | break objects into simple shapes first | complex forms become manageable
- Observation | draw from real objects, not only from memory | observation trains the eye
- Gesture | do quick one-minute gesture sketches | they teach movement and proportion
- Values | practice shading with a few value steps | light and shadow create form
- Study | copy drawings from artists you admire | you learn their decisions by repeating them
! erasing every line that is not perfect
! comparing yourself with professionals
! drawing only the things you already draw well

goal: start a podcast
- Concept | define the topic and audience in one sentence | a clear concept guides every episode
- Microphone | buy a decent USB microphone | sound quality matters more than video
- Room | record in a small room with soft furnishings | soft surfaces reduce echo
- Batch | record three episodes before launching | a small buffer keeps the schedule steady
- Schedule | publish on a fixed schedule | listeners come back when they know what to expect
- Editing | keep editing simple at first | finished episodes beat perfect ones
! recording in a bare room with echo
! launching with one episode and then going silent
! spending more on gear than on planning

goal: read more books
- Carry | always carry a book or an e-reader | spare minutes add up to hours
- Slot | read for 20 minutes before bed | a fixed slot makes it a habit
- Quitting | give up on books you do not enjoy | forcing a dull book stalls reading for weeks
- Audio | try audiobooks during commutes and chores | they turn dead time into reading time
- Variety | mix long books with short ones | quick wins keep the momentum
- Phone | keep the phone in another room while reading | notifications break concentration
! setting a huge yearly goal and feeling guilty
! reading only when you have a free hour
! finishing every book out of obligation

goal: maintain a bicycle
- Chain | clean and lube the chain every few hundred kilometers | a dirty chain wears the
    drivetrain fast
- Tires | check the tire pressure before each ride | correct pressure prevents flats and feels
    faster
- Brakes | check the brake pads for wear monthly | worn pads reduce stopping power
- Bolts | check that bolts are tight now and then | loose parts rattle and can fail
- Cleaning | wipe the frame after wet rides | grit damages moving parts
- Service | get a professional tune-up once a year | a mechanic spots problems early
! lubing the chain until it drips
! riding on soft tires
! washing the bike with a high-pressure jet

goal: write a short story
- Desire | start with a character who wants something | desire drives the plot
- Conflict | put a clear obstacle in their way | stories need tension
- Scope | limit the story to a few scenes | short stories work best with a narrow focus
- Opening | begin close to the moment of change | long setups lose readers
- Draft | write the full draft before editing | editing too early stalls progress
- Revision | cut every scene that does not move the story | tight stories hit harder
! opening with pages of backstory
! introducing too many characters
! ending with it was all a dream

goal: pack light for a week-long trip
- List | write a packing list and stick to it | a list stops the just-in-case items
- Colors | choose clothes in a few matching colors | everything combines into more outfits
- Layers | pack layers instead of bulky items | layers handle changing weather
- Laundry | plan to wash clothes once during the trip | you only need half the clothes
- Toiletries | use travel-size containers | full-size bottles waste space and weight
- Shoes | bring at most two pairs of shoes | shoes are the heaviest items
! packing an outfit for every possible event
! bringing full-size toiletries
! forgetting that you can buy things there

goal: beat jet lag
- Shift | shift your sleep by an hour a day before leaving | the body adjusts gradually
- Daylight | get daylight in the morning at the destination | light resets the body clock
- Schedule | eat and sleep on local time from day one | it anchors the new rhythm
- Naps | keep naps short on the first day | long naps delay adjustment
- Hydration | drink plenty of water on the flight | dehydration makes tiredness worse
- Caffeine | use caffeine only in the local morning | late coffee blocks sleep at night
! sleeping all afternoon on arrival
! drinking a lot of alcohol on the plane
! staying indoors on the first day

goal: find cheap flights
- Flexibility | compare prices across a range of dates | a day earlier can be much cheaper
- Alerts | set price alerts on a flight search site | you get notified when fares drop
- Airports | check nearby airports too | smaller airports often have cheaper routes
- Timing | book about one to three months ahead for short trips | very late bookings cost more
- Fees | compare total prices including bags | cheap fares get expensive with extras
- Midweek | fly on Tuesdays or Wednesdays when possible | midweek flights are often cheaper
! booking the first fare you see
! ignoring baggage fees
! assuming private browsing changes prices

goal: travel by car with a dog
- Restraint | use a crash-tested harness or crate | a loose dog is dangerous in a sudden stop
- Practice | take short practice drives before the trip | the dog learns that the car is normal
- Breaks | stop every two to three hours | the dog needs to stretch and relieve itself
- Water | bring water and a bowl | dogs overheat quickly in cars
- Food | feed a light meal a few hours before leaving | a full stomach causes car sickness
- Heat | never leave the dog alone in a parked car | the inside heats up in minutes
! letting the dog ride with its head out of the window
! feeding a big meal right before driving
! forgetting the vaccination records

goal: prepare a car for winter
- Tires | fit winter tires once temperatures stay below 7 degrees | they grip far better in the cold
- Battery | test the battery before the first frost | cold weather exposes weak batteries
- Fluids | top up antifreeze and winter washer fluid | summer fluid can freeze
- Wipers | replace worn wiper blades | clear visibility matters most in snow
- Kit | keep a scraper, blanket and flashlight in the trunk | a breakdown in the cold is serious
- Fuel | keep the tank at least half full | it prevents condensation and helps in long delays
! driving with only a peephole cleared in the windshield
! waiting for the first snow to change tires
! ignoring a slow cranking engine

goal: teach a puppy to walk on a leash
- Sessions | keep training sessions short, about five minutes | puppies lose focus quickly
- Rewards | reward the puppy when the leash is loose | it learns that a slack leash pays off
- Stopping | stop walking whenever it pulls | pulling should never get it forward
- Harness | use a comfortable harness while learning | it protects the neck
- Indoors | practice indoors before busy streets | fewer distractions make learning easier
- Play | play before walks to burn off energy | a calmer puppy listens better
! yanking the leash
! using long walks as the first lessons
! rewarding pulling by following along

goal: keep a cat off the kitchen counter
- Alternative | give the cat a tall cat tree near the kitchen | cats want height, not counters
- Food | never leave food on the counter | food rewards the jumping
- Deterrent | put double-sided tape on the counter for a while | cats dislike the sticky feel
- Reward | reward the cat for using its own perch | it learns where it should be
- Consistency | make sure everyone follows the same rule | mixed signals confuse the cat
- Play | play with the cat daily | a bored cat looks for adventure
! spraying the cat with water
! yelling, which only teaches it to wait until you leave
! letting it up sometimes
"""


@dataclass(frozen=True, slots=True)
class Tip:
    """One piece of advice: a short term, an imperative action and the reason behind it."""

    term: str
    action: str
    reason: str


@dataclass(frozen=True, slots=True)
class Topic:
    """A how-to topic: the goal as a verb phrase, its tips and common mistakes."""

    goal: str
    tips: tuple[Tip, ...]
    mistakes: tuple[str, ...]


def join_continuations(text: str) -> list[str]:
    """Lines of ``text``; a line indented by four spaces continues the previous one."""
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("    ") and lines:
            lines[-1] = f"{lines[-1]} {line.strip()}"
        else:
            lines.append(line)
    return lines


def parse_topics(bank: str) -> list[Topic]:
    """Parse the ``goal:`` / ``-`` / ``!`` topic bank into Topic records."""
    topics: list[Topic] = []
    goal: str | None = None
    tips: list[Tip] = []
    mistakes: list[str] = []

    def close() -> None:
        if goal is not None:
            topics.append(Topic(goal, tuple(tips), tuple(mistakes)))

    for raw in join_continuations(bank.strip()):
        line = raw.strip()
        if line.startswith("goal:"):
            close()
            goal, tips, mistakes = line[5:].strip(), [], []
        elif line.startswith("- "):
            term, action, reason = (part.strip() for part in line[2:].split("|"))
            tips.append(Tip(term, action, reason))
        elif line.startswith("! "):
            mistakes.append(line[2:].strip())
        elif line:
            raise ValueError(f"unparsable topic bank line: {line!r}")
    close()
    return topics


TOPICS = parse_topics(TOPIC_BANK)

_DOUBLED = {"get": "getting", "set": "setting", "stop": "stopping", "run": "running"}
_DOUBLED |= {"spot": "spotting", "plan": "planning", "shop": "shopping"}


def gerund(goal: str) -> str:
    """'keep houseplants alive' -> 'keeping houseplants alive'."""
    verb, _, rest = goal.partition(" ")
    if verb in _DOUBLED:
        ing = _DOUBLED[verb]
    elif verb.endswith("e") and not verb.endswith("ee"):
        ing = verb[:-1] + "ing"
    else:
        ing = verb + "ing"
    return f"{ing} {rest}".strip()


def capitalize(text: str) -> str:
    """Upper-case the first character only."""
    return text[:1].upper() + text[1:]


def word_count(text: str) -> int:
    """Whitespace-separated words, the unit of the documented length bounds."""
    return len(text.split())


# --------------------------------------------------------------------------------------------
# Forum style: terse, informal, lowercase-ish, one paragraph.
# --------------------------------------------------------------------------------------------

FORUM_QUESTIONS = (
    "How do I {goal}?",
    "Any tips to {goal}?",
    "What's the easiest way to {goal}?",
    "Best way to {goal}?",
    "I keep failing to {goal}. What am I doing wrong?",
    "How do you guys {goal}?",
    "Is there a trick to {gerund}?",
    "What actually helped you {goal}?",
    "Quick question, how can I {goal}?",
    "Need advice on {gerund}.",
    "how do i {goal}",
    "any advice for {gerund}",
    "whats the trick to {gerund}?",
)
FORUM_REPLY_PROMPTS = (
    "Reply to this question from a help forum.",
    "Answer the forum post below.",
    "Write a short reply to this post.",
    "Respond to this thread.",
)
# (context given in the Alpaca ``input``, clause the answer adds about it)
FORUM_CONTEXTS = (
    ("I'm a complete beginner.", "start small and dont try everything at once"),
    ("Budget is pretty tight right now.", "none of this needs to cost much"),
    (
        "I only have about 20 minutes a day for this.",
        "even 10 min a day is enough if ur consistent",
    ),
    ("I've tried a few things already and nothing stuck.", "give each change a couple weeks"),
    ("I live in a small apartment.", "all of this works fine in a small place"),
    ("Asking for my dad, he likes simple instructions.", "write the steps down for him on paper"),
    ("I work night shifts so my schedule is weird.", "just shift it all to whatever ur morning is"),
    ("Been at this for a month with no luck.", "a month is not long tbh keep at it"),
)
FORUM_OPENERS = (
    "",
    "",
    "",
    "imo",
    "honestly",
    "tbh",
    "afaik",
    "yeah so",
    "ok so",
    "fwiw",
    "easy one,",
    "from experience",
    "not an expert but",
)
# Openers that only read well before an imperative tip.
FORUM_TIP_OPENERS = ("just", "i'd say", "what worked for me,", "honestly just", "try to")
FORUM_CLOSERS = (
    "",
    "",
    "",
    "ymmv",
    "hope that helps",
    "worked for me",
    "good luck",
    "thats about it",
    "not rocket science",
    "took me way too long to figure out lol",
    "dont overthink it",
    "cheers",
    "anyway thats my 2 cents",
    "trust me on this one",
    "edit: typo",
)
FORUM_LINKS = ("also ", "and ", "plus ", "oh and ", "", "", "other thing is ")
FORUM_MISTAKE_LINES = (
    "biggest mistake i see is {m}",
    "dont make my mistake of {m}",
    "avoid {m}",
    "ppl always mess up by {m}",
)
_TYPOS: dict[str, tuple[str, ...]] = {
    "because": ("bc", "cuz", "because"),
    "you": ("u", "you", "you"),
    "your": ("ur", "your"),
    "probably": ("prob", "probably"),
    "though": ("tho",),
    "definitely": ("definately", "def"),
    "a lot": ("alot", "a lot"),
    "really": ("rly", "really", "really"),
    "something": ("smth", "something"),
    "people": ("ppl",),
    "minutes": ("mins", "minutes"),
    "don't": ("dont",),
    "doesn't": ("doesnt",),
    "it's": ("its",),
    "i'm": ("im",),
    "you're": ("ur", "youre"),
    "do not": ("dont", "don't", "do not"),
    "does not": ("doesnt", "does not"),
    "is not": ("isnt", "is not"),
    "will not": ("wont", "will not"),
    "cannot": ("cant", "cannot"),
    "you have": ("youve", "you have"),
    "can't": ("cant",),
    "the": ("the",) * 30 + ("teh",),
    "receive": ("recieve",),
    "separate": ("seperate",),
    "with": ("with",) * 12 + ("w/",),
}
_TYPO_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(word) for word in sorted(_TYPOS, key=len, reverse=True)) + r")\b"
)


def add_typos(rng: random.Random, text: str) -> str:
    """Swap some words for abbreviations and common misspellings (seeded, left to right)."""
    return _TYPO_PATTERN.sub(lambda match: rng.choice(_TYPOS[match.group(1)]), text)


def forum_tip(rng: random.Random, tip: Tip) -> str:
    """One tip in forum voice, with or without the reason."""
    roll = rng.random()
    if roll < 0.35:
        return tip.action
    if roll < 0.6:
        return f"{tip.action} because {tip.reason}"
    if roll < 0.8:
        return f"{tip.action}, {tip.reason}"
    return f"{tip.action} since {tip.reason}"


def forum_question(rng: random.Random, topic: Topic) -> str:
    """A question as a forum user would type it."""
    template = rng.choice(FORUM_QUESTIONS)
    return template.format(goal=topic.goal, gerund=gerund(topic.goal))


def render_forum(rng: random.Random, topic: Topic, context_reply: str | None = None) -> str:
    """A terse forum answer: 1-3 tips, maybe a mistake, informal opener and closer."""
    tips = rng.sample(topic.tips, rng.choice((1, 2, 2, 2, 3)))
    parts = [forum_tip(rng, tips[0])]
    parts += [rng.choice(FORUM_LINKS) + forum_tip(rng, tip) for tip in tips[1:]]
    if rng.random() < 0.3:
        line = rng.choice(FORUM_MISTAKE_LINES).format(m=rng.choice(topic.mistakes))
        parts.insert(rng.randrange(len(parts) + 1), line)
    if context_reply:
        parts.insert(rng.choice((0, len(parts))), context_reply)
    starts_with_tip = parts[0].startswith(tips[0].action)
    separator = rng.choice((". ", " ", ", ", ". "))
    body = separator.join(parts)
    openers = FORUM_OPENERS + FORUM_TIP_OPENERS if starts_with_tip else FORUM_OPENERS
    opener, closer = rng.choice(openers), rng.choice(FORUM_CLOSERS)
    text = " ".join(piece for piece in (opener, body) if piece)
    if closer:
        text = f"{text}{rng.choice(('. ', ' ', ' - '))}{closer}"
    text = add_typos(rng, text.lower())
    if rng.random() < 0.15:
        text = capitalize(text)
    return text + rng.choice(("", "", "", ".", "!", " :)"))


# --------------------------------------------------------------------------------------------
# Guide style: intro line, ## headers, lists with **bold** terms, closing summary.
# --------------------------------------------------------------------------------------------

# (instruction suffix, extra sentence on the intro line)
AUDIENCES = (
    ("", ""),
    ("", ""),
    (" as a beginner", "If you are new to this, start with one step and add the rest gradually."),
    (" on a tight budget", "Most of these steps cost little or nothing."),
    (" with very little free time", "Each step takes only a few minutes."),
    (" as a student", "None of this needs special equipment or a big budget."),
    (" for a busy family", "Share the steps so everyone in the house follows them."),
)
GUIDE_QUESTIONS = (
    "How can I {goal}{aud}?",
    "Give me a step-by-step guide to {gerund}{aud}.",
    "Explain how to {goal}{aud}.",
    "What is the best way to {goal}{aud}?",
    "Write a short guide on {gerund}{aud}.",
    "I want to {goal}{aud}. Can you walk me through it?",
    "What are the key steps to {goal}{aud}?",
    "Outline a simple plan to {goal}{aud}.",
    "Summarize the essentials of {gerund}{aud}.",
    "What mistakes should I avoid when {gerund}{aud}?",
)
GUIDE_INTROS = (
    "Here is a practical guide to {gerund}{aud}.",
    "{Gerund} gets much easier once you follow a few clear steps.",
    "Good question: a little structure makes it far easier to {goal}.",
    "Below is a simple plan to {goal}{aud}.",
    "You can {goal} with a handful of habits, outlined below.",
    "Great question! Here is what works best when {gerund}.",
)
STEP_HEADERS = ("## Steps", "## Key steps", "## How to do it", "## What to do", "## The essentials")
MISTAKE_HEADERS = ("## Common mistakes", "## Pitfalls to avoid", "## What to avoid")
EXTRA_HEADERS = ("## Bonus tip", "## One more thing", "## Extra tip")
GUIDE_SUMMARIES = (
    "In short, focus on **{t1}** and **{t2}**, and the rest will follow.",
    "**Summary:** {A1} and {a2}, then stay consistent.",
    "Follow these steps consistently and you will {goal} with far less effort.",
    "Start with **{t1}**, add the other steps gradually, and review what works after a few weeks.",
    "To sum up: {a1}, avoid {m1}, and give it time.",
    "Get **{t1}** right first; everything else builds on it.",
)


def _guide_item(style: int, marker: str, tip: Tip) -> str:
    if style == 0:
        return f"{marker} **{tip.term}**: {capitalize(tip.action)}, since {tip.reason}."
    if style == 1:
        return f"{marker} **{tip.term}** \u2014 {tip.action}, because {tip.reason}."
    return f"{marker} **{capitalize(tip.action)}.** {capitalize(tip.reason)}."


def render_guide(rng: random.Random, topic: Topic, audience: int, mistakes_first: bool) -> str:
    """A structured assistant guide for one topic."""
    suffix, aside = AUDIENCES[audience]
    fields = {"goal": topic.goal, "gerund": gerund(topic.goal), "aud": suffix}
    fields["Gerund"] = capitalize(fields["gerund"])
    intro = rng.choice(GUIDE_INTROS).format(**fields)
    if aside:
        intro = f"{intro} {aside}"

    pool = list(topic.tips)
    rng.shuffle(pool)
    n_steps = rng.choice((3, 4, 4, 5))
    steps, rest = pool[:n_steps], pool[n_steps:]
    style = rng.randrange(3)
    numbered = rng.random() < 0.55
    step_lines = [
        _guide_item(style, f"{i}." if numbered else "-", tip) for i, tip in enumerate(steps, 1)
    ]
    step_header = "## Do this instead" if mistakes_first else rng.choice(STEP_HEADERS)
    step_block = "\n".join([step_header, "", *step_lines])

    mistakes = rng.sample(topic.mistakes, rng.choice((2, 2, 3)))
    mistake_lines = [f"- {capitalize(m)}." for m in mistakes]
    mistake_block = "\n".join([rng.choice(MISTAKE_HEADERS), "", *mistake_lines])

    blocks = [intro]
    if mistakes_first:
        blocks += [mistake_block, step_block]
    else:
        blocks.append(step_block)
        if rng.random() < 0.7:
            blocks.append(mistake_block)
    if rest and rng.random() < 0.35:
        extra = rest[0]
        blocks.append(f"{rng.choice(EXTRA_HEADERS)}\n\n{capitalize(extra.action)}: {extra.reason}.")
    summary = rng.choice(GUIDE_SUMMARIES).format(
        t1=steps[0].term.lower(),
        t2=steps[1].term.lower(),
        A1=capitalize(steps[0].action),
        a1=steps[0].action,
        a2=steps[1].action,
        m1=mistakes[0],
        goal=topic.goal,
    )
    blocks.append(summary)
    return "\n\n".join(blocks)


def guide_question(rng: random.Random, topic: Topic, audience: int, template: int) -> str:
    """The human turn for a guide."""
    fields = {"goal": topic.goal, "gerund": gerund(topic.goal), "aud": AUDIENCES[audience][0]}
    return GUIDE_QUESTIONS[template].format(**fields)


# --------------------------------------------------------------------------------------------
# Code style: one explanation sentence, a fenced block, a short note.
# --------------------------------------------------------------------------------------------

_SCHEMA_FIELDS = "stem num cat key date noun cls other fk label"
_VALUE_FIELDS = "thr c1 c2 v1 v2 v3"
# One line per dataset: table, numeric, category, key and date columns, names, related table.
_DATASET_SCHEMAS = """
orders|total|country|order_id|created_at|order|Order|customers|customer_id|name
employees|salary|department|employee_id|hired_on|employee|Employee|offices|office_id|city
readings|temperature|sensor_name|reading_id|taken_at|reading|Reading|sensors|sensor_id|location
tickets|resolution_hours|priority|ticket_id|opened_at|ticket|Ticket|agents|agent_id|full_name
trips|distance_km|city|trip_id|started_at|trip|Trip|drivers|driver_id|name
books|pages|genre|book_id|published_on|book|Book|authors|author_id|name
invoices|amount|status|invoice_id|issued_on|invoice|Invoice|clients|client_id|company
songs|duration_sec|genre|song_id|released_on|song|Song|artists|artist_id|name
payments|amount|method|payment_id|paid_at|payment|Payment|users|user_id|email
rentals|nightly_rate|neighborhood|rental_id|listed_on|rental|Rental|hosts|host_id|name
"""
# Per dataset, in the same order: a threshold, two category values, three numeric values.
_DATASET_VALUES = """
100 | DE | FR | 120.5 | 89.9 | 240.0
60000 | Sales | Finance | 52000 | 61000 | 75500
30 | roof-1 | cellar-2 | 21.4 | 19.8 | 31.2
48 | high | low | 5.5 | 30.0 | 72.25
20 | Lisbon | Oslo | 3.2 | 18.7 | 42.0
400 | fantasy | history | 320 | 512 | 198
5000 | paid | overdue | 1200.0 | 5400.0 | 780.5
300 | jazz | rock | 215 | 348 | 187
250 | card | transfer | 49.99 | 310.0 | 12.5
150 | Old Town | Harbor | 95.0 | 180.0 | 142.5
"""


def _parse_datasets() -> tuple[dict[str, str], ...]:
    fields = _SCHEMA_FIELDS.split() + _VALUE_FIELDS.split()
    schemas = _DATASET_SCHEMAS.strip().splitlines()
    values = _DATASET_VALUES.strip().splitlines()
    return tuple(
        dict(zip(fields, schema.split("|") + [v.strip() for v in value.split("|")], strict=True))
        for schema, value in zip(schemas, values, strict=True)
    )


DATASETS = _parse_datasets()

# "=== lang | tool [| data]" opens a task ("data": slots from a DATASETS row). Then "what:"
# (task phrase for the instruction), "why:" (explanation), "note:", "pool: a|b = x|y ;; x2|y2"
# (options for the @a@/@b@ slots) and finally "code:" followed by the code up to the next task.
# Before "code:", a line indented by four spaces continues the previous line.
CODE_BANK = r"""
=== python | pandas | data
what: compute the average @num@ in @stem@.csv
what: get the mean of the @num@ column of a CSV file
why: Load the file with pandas and call `mean()` on the column; missing values are skipped.
why: pandas reads the CSV into a DataFrame, and `Series.mean()` ignores empty cells by default.
note: If the column was read as text, convert it first with `pd.to_numeric(@df@["@num@"],
    errors="coerce")`.
note: Use `@df@["@num@"].median()` instead if a few extreme values distort the average.
note: `@df@.describe()` shows the mean together with the spread and the quartiles.
pool: df = df ;; data ;; @stem@
pool: avg = average ;; mean_@num@ ;; avg
code:
import pandas as pd

@df@ = pd.read_csv("@stem@.csv")
@avg@ = @df@["@num@"].mean()
print(f"Average @num@: {@avg@:.2f}")

=== python | pandas | data
what: sum @num@ per @cat@ in @stem@.csv
what: total up @num@ for each @cat@ and sort the result
why: Group the rows by `@cat@`, sum `@num@` in each group and sort so the largest come first.
why: `groupby` splits the table by `@cat@`; chaining `sum()` and `sort_values()` gives a ranked
    total.
note: Swap `sum()` for `agg(["sum", "mean", "count"])` to get several statistics at once.
note: `groupby` drops rows where `@cat@` is missing unless you pass `dropna=False`.
pool: df = df ;; @stem@
pool: totals = totals ;; by_@cat@ ;; summary
pool: n = 3 ;; 5 ;; 10
code:
import pandas as pd

@df@ = pd.read_csv("@stem@.csv")
@totals@ = (
    @df@.groupby("@cat@")["@num@"]
    .sum()
    .sort_values(ascending=False)
)
print(@totals@.head(@n@))

=== python | pandas | data
what: keep only the @stem@ rows where @num@ is above @thr@
what: filter a DataFrame by a threshold on @num@
why: Boolean indexing keeps the rows where the condition is true, and `to_csv` saves them.
why: A comparison on a column gives a mask of True and False; indexing with it selects the
    matching rows.
note: Combine conditions with `&` and `|`, and wrap each one in parentheses.
note: `@df@.query("@num@ > @thr@")` does the same and can be easier to read.
pool: df = df ;; @stem@ ;; data
pool: high = high ;; selected ;; over_limit
code:
import pandas as pd

@df@ = pd.read_csv("@stem@.csv")
@high@ = @df@[@df@["@num@"] > @thr@]
@high@.to_csv("@stem@_over_@thr@.csv", index=False)
print(f"kept {len(@high@)} of {len(@df@)} rows")

=== python | pandas | data
what: compute a @win@-day rolling average of @num@
what: smooth daily @num@ values over @win@ days
why: Resample to one value per day first, then apply a rolling window to the daily totals.
why: A rolling mean needs evenly spaced rows, so turn the timestamps into daily sums before
    averaging.
note: `min_periods=1` avoids empty values at the start of the series.
note: Days without rows become zero after `resample("D").sum()`, which suits totals.
pool: win = 7 ;; 14 ;; 30
pool: daily = daily ;; per_day
pool: smooth = rolling ;; smoothed ;; trend
code:
import pandas as pd

df = pd.read_csv("@stem@.csv", parse_dates=["@date@"])
@daily@ = df.set_index("@date@")["@num@"].resample("D").sum()
@smooth@ = @daily@.rolling(window=@win@, min_periods=1).mean()
print(@smooth@.tail())

=== python | pandas | data
what: count how many @stem@ fall in each @cat@
what: get the share of each @cat@ in a DataFrame
why: `value_counts()` counts each distinct value and sorts from most to least common.
why: Call `value_counts()` twice, once plain and once with `normalize=True`, to get counts and
    shares.
note: Pass `dropna=False` to count missing values as their own group.
note: `pd.crosstab` does the same for two columns at once.
pool: df = df ;; @stem@
pool: counts = counts ;; per_@cat@
code:
import pandas as pd

@df@ = pd.read_csv("@stem@.csv")
@counts@ = @df@["@cat@"].value_counts()
shares = @df@["@cat@"].value_counts(normalize=True).round(3)
print(pd.DataFrame({"count": @counts@, "share": shares}))

=== python | pandas | data
what: join @stem@.csv with @other@.csv on @fk@
what: merge two CSV files on a shared id column
why: Use `merge` with `how="left"` so every row of the first file is kept, match or not.
why: A left merge on `@fk@` adds the columns of `@other@.csv` to each row of `@stem@.csv`.
note: `validate="many_to_one"` raises an error if `@other@.csv` repeats a key, which catches
    silent row explosions.
note: Check `merged["@label@"].isna().sum()` afterwards to see how many rows found no match.
pool: left = left ;; @stem@
pool: right = right ;; @other@
code:
import pandas as pd

@left@ = pd.read_csv("@stem@.csv")
@right@ = pd.read_csv("@other@.csv")
merged = @left@.merge(@right@, on="@fk@", how="left", validate="many_to_one")
print(merged[["@key@", "@fk@", "@label@"]].head())

=== python | pandas | data
what: fill missing @num@ values with the median
what: replace NaN in the @num@ column of @stem@.csv
why: Compute the median once and pass it to `fillna`, which only touches the empty cells.
why: `fillna` replaces missing values; the median is a robust choice when the data is skewed.
note: The flag column keeps a record of which values were filled in, for later analysis.
note: Fill per group with `@df@.groupby("@cat@")["@num@"].transform("median")` if groups differ a
    lot.
pool: df = df ;; @stem@
pool: fill = median ;; fill_value
code:
import pandas as pd

@df@ = pd.read_csv("@stem@.csv")
@fill@ = @df@["@num@"].median()
@df@["@num@_imputed"] = @df@["@num@"].isna()
@df@["@num@"] = @df@["@num@"].fillna(@fill@)
print(@df@["@num@"].isna().sum(), "missing values left")

=== python | pandas | data
what: extract the year and weekday from the @date@ column
what: convert a text column to dates in pandas
why: `pd.to_datetime` parses the strings, and the `.dt` accessor exposes parts such as the year.
why: Convert the column once with `to_datetime`; after that, date parts are plain attributes under
    `.dt`.
note: `errors="coerce"` turns unparsable dates into `NaT` instead of raising.
note: Pass `format="%Y-%m-%d"` when you know the format; parsing gets faster and stricter.
pool: df = df ;; @stem@
code:
import pandas as pd

@df@ = pd.read_csv("@stem@.csv")
@df@["@date@"] = pd.to_datetime(@df@["@date@"], errors="coerce")
@df@["year"] = @df@["@date@"].dt.year
@df@["weekday"] = @df@["@date@"].dt.day_name()
print(@df@.groupby("year")["@num@"].sum())

=== python | matplotlib | data
what: plot monthly @num@ from @stem@.csv
what: save a line chart of a monthly time series as PNG
why: Resample to monthly totals with pandas, then draw them on a Matplotlib axis and save the
    figure.
why: pandas plots straight onto a Matplotlib axis, so you keep full control of titles and labels.
note: `"MS"` labels each month by its first day.
note: Call `plt.show()` instead of `savefig` when you work interactively.
pool: monthly = monthly ;; per_month
code:
import matplotlib.pyplot as plt
import pandas as pd

df = pd.read_csv("@stem@.csv", parse_dates=["@date@"])
@monthly@ = df.set_index("@date@")["@num@"].resample("MS").sum()

fig, ax = plt.subplots(figsize=(8, 4))
@monthly@.plot(ax=ax, marker="o")
ax.set_title("@num@ per month")
ax.set_ylabel("@num@")
fig.tight_layout()
fig.savefig("@stem@_monthly.png", dpi=150)

=== python | pandas | data
what: convert @stem@.csv to Parquet
what: save a DataFrame as Parquet and read back two columns
why: `to_parquet` writes a compressed columnar file, and `read_parquet` loads only the columns you
    ask for.
why: Parquet keeps column types and compresses well, which makes it a good replacement for big CSV
    files.
note: pandas needs `pyarrow` installed to read and write Parquet.
note: Reading only some columns with `columns=` is much faster on wide tables.
pool: df = df ;; @stem@
pool: back = back ;; subset
code:
import pandas as pd

@df@ = pd.read_csv("@stem@.csv")
@df@.to_parquet("@stem@.parquet", index=False, compression="zstd")
@back@ = pd.read_parquet("@stem@.parquet", columns=["@key@", "@num@"])
print(@back@.dtypes)

=== python | Python | data
what: read a JSON Lines file and skip broken lines
what: load @stem@.jsonl one record per line
why: Parse each line on its own with `json.loads`, so one bad line does not stop the whole file.
why: JSON Lines holds one object per line; reading line by line lets you report bad lines by number.
note: `pd.read_json("@stem@.jsonl", lines=True)` is shorter when every line is valid.
note: Keep the numbers of skipped lines so you can fix the source later.
pool: rows = rows ;; records ;; @stem@
code:
import json

@rows@ = []
with open("@stem@.jsonl", encoding="utf-8") as f:
    for number, line in enumerate(f, start=1):
        if not line.strip():
            continue
        try:
            @rows@.append(json.loads(line))
        except json.JSONDecodeError as err:
            print(f"skipping line {number}: {err}")
print(len(@rows@), "@stem@ loaded")

=== python | Python
what: read a nested value from @cfg@ with a default
what: load a JSON config file
why: Parse the file with `json.loads` and chain `get` calls so a missing section falls back to a
    default.
why: The `json` module turns the file into dictionaries, and `dict.get` avoids a `KeyError` for
    absent keys.
note: For deeper nesting, a small helper that walks a dotted path keeps the calls readable.
note: Validate the loaded settings early so a typo fails at start-up, not hours later.
pool: cfg = settings.json ;; config.json ;; app.json
pool: sec|field|default = database|host|localhost ;; server|port|8080 ;; logging|level|INFO ;;
    cache|ttl|300
pool: config = config ;; settings ;; cfg
code:
import json
from pathlib import Path

@config@ = json.loads(Path("@cfg@").read_text(encoding="utf-8"))
value = @config@.get("@sec@", {}).get("@field@", "@default@")
print(f"@sec@.@field@ = {value}")

=== python | Python | data
what: write a list of dicts to @stem@.csv
what: save dictionaries as CSV rows with a header
why: `csv.DictWriter` turns each dictionary into a row and uses the field names as the header.
why: The standard `csv` module handles quoting for you; `DictWriter` maps keys to columns.
note: Open the file with `newline=""`, otherwise Windows adds blank lines between rows.
note: Fields missing from a dictionary are written as empty cells.
pool: rows = rows ;; records ;; @stem@
pool: f = f ;; handle ;; out
code:
import csv

@rows@ = [
    {"@key@": 1, "@cat@": "@c1@", "@num@": @v1@},
    {"@key@": 2, "@cat@": "@c2@", "@num@": @v2@},
]

with open("@stem@.csv", "w", newline="", encoding="utf-8") as @f@:
    writer = csv.DictWriter(@f@, fieldnames=["@key@", "@cat@", "@num@"])
    writer.writeheader()
    writer.writerows(@rows@)

=== python | Python
what: find the @n@ most common words in @txt@
what: count word frequencies in a text file
why: Lowercase the text, pull out the words with a regular expression and let `Counter` tally them.
why: `collections.Counter` counts hashable items, and `most_common` returns the top entries sorted.
note: Drop stop words such as 'the' and 'and' first if you want more telling results.
note: Use `str.casefold()` instead of `lower()` for text in several languages.
pool: txt = notes.txt ;; speech.txt ;; reviews.txt ;; chapter1.txt
pool: n = 5 ;; 10 ;; 20
pool: words = words ;; tokens
code:
import re
import unicodedata
from collections import Counter
from pathlib import Path

text = Path("@txt@").read_text(encoding="utf-8").lower()
@words@ = re.findall(r"[a-z']+", text)
for word, count in Counter(@words@).most_common(@n@):
    print(f"{word:<15} {count}")

=== python | Python
what: retry a flaky call with exponential backoff
what: retry a function up to @att@ times
why: Loop over the attempts, double the wait after each failure and re-raise on the last one.
why: Exponential backoff waits longer after every failure, which gives a struggling service time
    to recover.
note: The random jitter keeps many clients from retrying at the same moment.
note: Only catch the errors that are worth retrying, never a bare `except`.
pool: att = 3 ;; 4 ;; 5
pool: delay = 0.5 ;; 1.0 ;; 2.0
pool: fn = retry ;; with_retries ;; call_with_backoff
pool: exc = ConnectionError ;; TimeoutError ;; OSError
code:
import random
import time


def @fn@(func, attempts=@att@, base_delay=@delay@):
    for attempt in range(1, attempts + 1):
        try:
            return func()
        except @exc@:
            if attempt == attempts:
                raise
            delay = base_delay * 2 ** (attempt - 1)
            time.sleep(delay + random.uniform(0, delay / 2))

=== python | Python | data
what: parse command line arguments
what: add a --@opt@ option to a script
why: `argparse` builds the parser, the `--help` text and the error messages from a few declarations.
why: Declare each argument once with `add_argument`; `parse_args` then validates and converts the
    values.
note: Dashes in option names become underscores on the `args` object.
note: Run the script with `--help` to see the generated usage text.
pool: opt|optvar|optdef = limit|limit|100 ;; batch-size|batch_size|32 ;; workers|workers|4
pool: parser = parser ;; cli
code:
import argparse

@parser@ = argparse.ArgumentParser(description="Process @stem@ data.")
@parser@.add_argument("path", help="input file")
@parser@.add_argument("--@opt@", type=int, default=@optdef@)
@parser@.add_argument("--verbose", action="store_true")
args = @parser@.parse_args()
print(args.path, args.@optvar@, args.verbose)

=== python | Python
what: find all @ext@ files under @dir@ recursively
what: list files by extension in a folder tree
why: `Path.rglob` walks every subfolder and yields each path that matches the pattern.
why: `pathlib` handles the walking for you: `rglob("*@ext@")` searches the folder and everything
    below it.
note: Use `@root@.glob("*@ext@")` instead if you only want the top-level folder.
note: Sorting the matches makes the output stable between runs.
pool: dir = data ;; logs ;; src ;; reports
pool: ext = .csv ;; .log ;; .py ;; .json ;; .md
pool: root = root ;; base ;; folder
pool: found = matches ;; found ;; files
code:
from pathlib import Path

@root@ = Path("@dir@")
@found@ = sorted(@root@.rglob("*@ext@"))
for path in @found@:
    print(path.relative_to(@root@), path.stat().st_size)
print(f"{len(@found@)} files found")

=== python | Python | data
what: define a dataclass for a @noun@ with validation
what: validate fields in a dataclass
why: A dataclass writes `__init__` and `__repr__` for you, and `__post_init__` is the place for
    checks.
why: Put the checks in `__post_init__`, which runs right after the generated `__init__`.
note: `frozen=True` makes instances immutable and hashable.
note: For many rules or parsing from JSON, a library such as pydantic scales better.
code:
from dataclasses import dataclass


@dataclass(frozen=True)
class @cls@:
    @key@: int
    @cat@: str
    @num@: float

    def __post_init__(self) -> None:
        if self.@num@ < 0:
            raise ValueError("@num@ must not be negative")

=== python | Python
what: measure how long a function takes
what: write a timing decorator
why: A decorator can wrap any function and time it with `time.perf_counter`, the most precise
    clock for this.
why: Wrap the function, read `perf_counter` before and after the call, and print the difference.
note: For micro benchmarks, `timeit` repeats the call and gives steadier numbers.
note: `functools.wraps` keeps the original name and docstring on the wrapper.
pool: fn = build_report ;; load_data ;; slow_sum
pool: big = 1_000_000 ;; 5_000_000
pool: deco = timed ;; timer ;; log_duration
code:
import functools
import time


def @deco@(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = func(*args, **kwargs)
        print(f"{func.__name__} took {time.perf_counter() - start:.3f}s")
        return result

    return wrapper


@@deco@
def @fn@():
    return sum(i * i for i in range(@big@))

=== python | Python
what: split a list into batches of @n@
what: process items in fixed-size chunks
why: `islice` takes the next few items from one shared iterator until it runs dry.
why: A generator that slices a single iterator works for lists and for streams of unknown length.
note: On Python 3.12 and later, `itertools.batched` does this for you.
note: The last batch can be shorter than the others.
pool: n = 3 ;; 4 ;; 10 ;; 50
pool: total = 10 ;; 25 ;; 100
pool: fn = batched ;; chunks ;; in_batches
code:
from itertools import islice


def @fn@(items, size=@n@):
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


for batch in @fn@(range(@total@)):
    print(batch)

=== python | Python
what: remove duplicates from a list but keep the order
what: deduplicate items by a key
why: `dict.fromkeys` keeps the first occurrence of each item, and a generator with a `seen` set
    handles custom keys.
why: Dictionaries remember insertion order, so their keys are an ordered set of the items.
note: Both approaches need hashable items or keys; lists must become tuples first.
note: `set(items)` also removes duplicates but loses the order.
pool: items = "apple", "pear", "apple", "fig", "pear" ;; 3, 1, 3, 2, 1, 5 ;; "b", "a", "B", "a", "c"
pool: fn = dedupe ;; unique_by ;; unique_everseen
code:
items = [@items@]
print(list(dict.fromkeys(items)))


def @fn@(items, key=None):
    seen = set()
    for item in items:
        marker = key(item) if key else item
        if marker not in seen:
            seen.add(marker)
            yield item

=== python | Python
what: extract all email addresses from a string
what: pull emails out of free text with a regex
why: Compile the pattern once and call `findall`, which returns every match as a list.
why: A regular expression finds each address-shaped token; `findall` collects them in order.
note: Real email syntax is messy; this pattern suits extraction, not strict validation.
note: Lowercase the results before comparing addresses.
pool: sentence = Contact anna.lee@example.com or support@example.org today. ;; cc:
    ops-team@example.net; billing@example.com ;; Send the report to j.doe+reports@example.co.uk by
    Friday.
pool: pattern = EMAIL ;; EMAIL_RE ;; PATTERN
code:
import re

@pattern@ = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")

text = "@sentence@"
print(@pattern@.findall(text))

=== python | Python
what: calculate the number of days between two dates
what: get the difference between two dates
why: Subtracting two `date` objects gives a `timedelta`, and its `days` attribute is the gap.
why: Parse both dates with `date.fromisoformat` and subtract; the result is a `timedelta`.
note: Use timezone-aware `datetime` objects instead if hours and minutes matter.
note: Add one day to the result if both the first and the last day should count.
pool: d1|d2 = 2024-01-15|2024-03-01 ;; 2023-11-30|2024-02-29 ;; 2024-06-01|2024-12-24
pool: a|b = start|end ;; begin|finish ;; check_in|check_out
code:
from datetime import date

@a@ = date.fromisoformat("@d1@")
@b@ = date.fromisoformat("@d2@")
delta = @b@ - @a@
print(f"{delta.days} days ({delta.days // 7} weeks)")

=== python | Python | data
what: fetch JSON from an HTTP API without extra libraries
what: call a REST endpoint with urllib
why: `urllib.request` ships with Python, so a GET that returns JSON needs no extra package.
why: Build a `Request` with an `Accept` header, open it with a timeout and decode the body with
    `json.load`.
note: Always pass a timeout; without one a stalled server can hang the script forever.
note: `urlopen` raises `HTTPError` for 4xx and 5xx answers, so wrap it in `try` for friendly errors.
pool: n = 10 ;; 50 ;; 100
pool: timeout = 5 ;; 10
pool: req = req ;; request
code:
import json
from urllib.request import Request, urlopen

url = "https://api.example.com/v1/@stem@?limit=@n@"
@req@ = Request(url, headers={"Accept": "application/json"})
with urlopen(@req@, timeout=@timeout@) as resp:
    @stem@ = json.load(resp)
print(len(@stem@), "@stem@")

=== python | Python | data
what: store rows in a SQLite database
what: create a SQLite table and insert data
why: The built-in `sqlite3` module needs no server; use `?` placeholders so values are escaped
    safely.
why: `executemany` inserts a list of tuples in one call, and the `with` block commits on success.
note: The `with` block commits the transaction but does not close the connection.
note: Never build SQL with f-strings from user input; placeholders prevent SQL injection.
pool: db = app.db ;; local.db ;; data.sqlite
pool: conn = conn ;; con ;; db
code:
import sqlite3

with sqlite3.connect("@db@") as @conn@:
    @conn@.execute(
        "CREATE TABLE IF NOT EXISTS @stem@ "
        "(@key@ INTEGER PRIMARY KEY, @cat@ TEXT, @num@ REAL)"
    )
    @conn@.executemany(
        "INSERT INTO @stem@ (@cat@, @num@) VALUES (?, ?)",
        [("@c1@", @v1@), ("@c2@", @v2@)],
    )
    for row in @conn@.execute("SELECT @cat@, SUM(@num@) FROM @stem@ GROUP BY @cat@"):
        print(row)

=== python | Python
what: log to a file and the console at the same time
what: set up logging for a small script
why: `basicConfig` with two handlers sends every record to a file and to the terminal.
why: Give `basicConfig` a file handler and a stream handler; both share the same format and level.
note: Call `basicConfig` once at start-up; later calls do nothing once handlers exist.
note: Use `logging.getLogger(__name__)` inside modules so each logger is named after its module.
pool: level = INFO ;; DEBUG ;; WARNING
pool: logfile = app.log ;; worker.log ;; import.log
pool: logger = importer ;; worker ;; sync
pool: log = log ;; logger
code:
import logging

logging.basicConfig(
    level=logging.@level@,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    handlers=[logging.FileHandler("@logfile@"), logging.StreamHandler()],
)
@log@ = logging.getLogger("@logger@")
@log@.info("started")

=== python | Python
what: read settings from environment variables
what: use environment variables with defaults
why: `os.environ.get` returns a default when a variable is unset; convert types yourself because
    every value is a string.
why: Read each setting once at start-up with a sensible default, and convert numbers and flags
    explicitly.
note: Keep secrets out of the code and out of version control.
note: A `.env` file plus a loader such as python-dotenv is handy during development.
pool: var1|def1 = DATABASE_URL|sqlite:///local.db ;; REDIS_URL|redis://localhost:6379/0 ;;
    API_BASE|http://localhost:8000
pool: var2|def2 = TIMEOUT_SECONDS|30 ;; MAX_RETRIES|3 ;; WORKERS|4
pool: var3 = DEBUG ;; VERBOSE ;; DRY_RUN
code:
import os

@var1@ = os.environ.get("@var1@", "@def1@")
@var2@ = int(os.environ.get("@var2@", "@def2@"))
@var3@ = os.environ.get("@var3@", "0") == "1"
print(@var1@, @var2@, @var3@)

=== python | Python | data
what: sort a list of dictionaries by @num@
what: order records by one of their fields
why: `sorted` takes a key function, so a lambda that picks the field is all you need.
why: Pass `key=` to `sorted` to choose what to compare, and `reverse=True` for descending order.
note: `operator.itemgetter("@num@")` is a slightly faster alternative to the lambda.
note: Python's sort is stable, so rows with equal values keep their original order.
pool: ranked = ranked ;; by_@num@ ;; ordered
code:
@stem@ = [
    {"@key@": 1, "@num@": @v1@},
    {"@key@": 2, "@num@": @v2@},
    {"@key@": 3, "@num@": @v3@},
]
@ranked@ = sorted(@stem@, key=lambda row: row["@num@"], reverse=True)
print(@ranked@[0])

=== python | pytest
what: write a parametrized test for a @func@ function
what: test one function on several inputs
why: `pytest.mark.parametrize` runs the same test once for each pair of input and expected value.
why: Parametrizing keeps one test body and lists the cases as data, which is easy to extend.
note: Run it with `pytest -q`; each case is reported separately when it fails.
note: Add an `ids=` list to give each case a readable name in the report.
pool: s1|e1 = Hello World|hello-world ;;   Trim me  |trim-me
pool: s2|e2 = Data & AI|data-ai ;; Already-slugged|already-slugged ;; Café Menu|cafe-menu
pool: func = slugify ;; make_slug ;; to_slug
pool: module = textutils ;; myapp.text ;; utils.strings
code:
import pytest

from @module@ import @func@


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("@s1@", "@e1@"), ("@s2@", "@e2@")],
)
def test_@func@(raw, expected):
    assert @func@(raw) == expected

=== python | Python
what: flatten a nested list
what: turn nested lists into one flat list
why: A recursive generator handles any depth: it yields plain items and recurses into lists.
why: Walk the items, recurse with `yield from` into every list or tuple, and yield everything else.
note: For exactly one level of nesting, `itertools.chain.from_iterable` is simpler.
note: Very deep nesting can hit the recursion limit; an explicit stack avoids that.
pool: nested = [1, [2, 3], [4, [5, 6]]] ;; [["a", "b"], ["c", ["d"]]] ;; [[1, 2], [], [3, [4]]]
pool: fn = flatten ;; flat ;; iter_flat
code:
def @fn@(items):
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from @fn@(item)
        else:
            yield item


print(list(@fn@(@nested@)))

=== python | Python | data
what: download several URLs in parallel
what: run HTTP requests concurrently with threads
why: Network calls spend most of their time waiting, so a thread pool runs several at once.
why: `ThreadPoolExecutor.map` spreads the calls over a few worker threads and yields results in
    order.
note: `pool.map` re-raises the first exception as you iterate; use `submit` and `as_completed` to
    handle errors per URL.
note: Keep `max_workers` modest so you do not overload the server.
pool: count = 10 ;; 20 ;; 50
pool: workers = 4 ;; 8
pool: fn = fetch ;; get_status ;; check_url
code:
from concurrent.futures import ThreadPoolExecutor
from urllib.request import urlopen

URLS = [f"https://example.com/@stem@/{i}" for i in range(@count@)]


def @fn@(url):
    with urlopen(url, timeout=10) as resp:
        return url, resp.status


with ThreadPoolExecutor(max_workers=@workers@) as pool:
    for url, status in pool.map(@fn@, URLS):
        print(status, url)

=== python | Python
what: cache the results of an expensive function
what: memoize a recursive function
why: `functools.lru_cache` stores results keyed by the arguments, so repeat calls return at once.
why: Decorate the function with `lru_cache` and Python remembers each result for the same arguments.
note: Arguments must be hashable, and the cache lives as long as the process.
note: Call `@fn@.cache_clear()` when the underlying data changes.
pool: size = 128 ;; 256 ;; None
pool: fn = fib ;; fibonacci
pool: arg = 80 ;; 100 ;; 150
code:
from functools import lru_cache


@lru_cache(maxsize=@size@)
def @fn@(n: int) -> int:
    if n < 2:
        return n
    return @fn@(n - 1) + @fn@(n - 2)


print(@fn@(@arg@))
print(@fn@.cache_info())

=== python | Python
what: compute the SHA-256 checksum of @file@
what: hash a large file without loading it all
why: Read the file in chunks and feed them to `hashlib.sha256`, so memory use stays small.
why: `hashlib` objects accept data piece by piece, so a loop over fixed-size chunks hashes any
    file size.
note: On Python 3.11 and later, `hashlib.file_digest` does the same in one call.
note: Compare the result with the published checksum to verify a download.
pool: chunk = 65536 ;; 1024 * 1024
pool: file = backup.tar.gz ;; installer.iso ;; dump.sql
pool: fn = sha256_of ;; file_sha256 ;; checksum
code:
import hashlib


def @fn@(path, chunk_size=@chunk@):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


print(@fn@("@file@"))

=== python | Python
what: count lines containing @needle@ in a big log
what: scan a large file line by line
why: Iterating over the file object reads one line at a time, so memory stays flat.
why: A `for` loop over an open file streams it, which works for files far larger than RAM.
note: `errors="replace"` keeps the loop going if the file holds a few invalid bytes.
note: For plain counting, `grep -c @needle@ @logfile@` in a shell is even quicker.
pool: logfile = server.log ;; app.log ;; access.log
pool: needle = ERROR ;; Timeout ;; 503
pool: hits = hits ;; matches ;; count
code:
@hits@ = 0
with open("@logfile@", encoding="utf-8", errors="replace") as f:
    for line in f:
        if "@needle@" in line:
            @hits@ += 1
print(f"{@hits@} lines contain @needle@")

=== python | Python
what: merge two dictionaries
what: deep merge nested dicts of settings
why: The `|` operator merges two dicts with the right side winning; nested dicts need a small
    recursive helper.
why: For flat dicts, `a | b` is enough; the helper below also merges dictionaries nested inside.
note: Neither approach modifies the original dictionaries.
note: The `|` operator needs Python 3.9 or later; use `{**a, **b}` on older versions.
pool: k1|k2|dv1|dv2|ov2 = timeout|retries|30|3|5 ;; host|port|"localhost"|8080|9090 ;;
    theme|font_size|"light"|12|14
pool: defaults|overrides = defaults|overrides ;; base|extra ;; current|changes
code:
@defaults@ = {"@k1@": @dv1@, "@k2@": @dv2@}
@overrides@ = {"@k2@": @ov2@}
print(@defaults@ | @overrides@)


def deep_merge(base, extra):
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged

=== python | Python
what: read an INI config file
what: load settings from @ini@
why: `configparser` reads INI files, and `fallback` supplies a value when a key is missing.
why: `ConfigParser.get` looks up a key in a section; typed getters such as `getint` convert it.
note: `getint`, `getfloat` and `getboolean` convert the strings for you.
note: `config.read` silently skips missing files, so check its return value if the file is required.
pool: ini = settings.ini ;; app.ini ;; deploy.ini
pool: section|port = database|5432 ;; server|8080 ;; cache|6379
pool: config = config ;; parser
code:
import configparser

@config@ = configparser.ConfigParser()
@config@.read("@ini@")
host = @config@.get("@section@", "host", fallback="localhost")
port = @config@.getint("@section@", "port", fallback=@port@)
print(host, port)

=== python | Python
what: turn two lists into a dictionary
what: zip keys and values into a dict and invert it
why: `zip` pairs the lists item by item, and `dict` turns the pairs into a mapping.
why: `dict(zip(keys, values))` is the idiomatic way; `strict=True` catches lists of different
    lengths.
note: `strict=True` needs Python 3.10 or later.
note: Inverting only works cleanly when the values are unique.
pool: keys|vals = "red", "green", "blue"|"#f00", "#0f0", "#00f" ;; "mon", "tue", "wed"|1, 2, 3 ;;
    "de", "fr", "it"|"Berlin", "Paris", "Rome"
pool: mapping = mapping ;; lookup ;; table
code:
keys = [@keys@]
values = [@vals@]
@mapping@ = dict(zip(keys, values, strict=True))
print(@mapping@)
inverted = {value: key for key, value in @mapping@.items()}
print(inverted)

=== python | Python
what: time a block of code with a context manager
what: write a context manager that prints elapsed time
why: `contextlib.contextmanager` turns a generator into a context manager; the `finally` runs when
    the block ends.
why: Code before `yield` runs on entry and code after it on exit, which is all a timer needs.
note: The `finally` makes sure the time is printed even if the block raises.
note: Return a value from `yield` if the block needs access to it.
pool: fn = timer ;; stopwatch ;; timed_block
pool: label = load ;; parse ;; export
pool: big = 1_000_000 ;; 10_000_000
code:
import time
from contextlib import contextmanager


@contextmanager
def @fn@(label):
    start = time.perf_counter()
    try:
        yield
    finally:
        print(f"{label}: {time.perf_counter() - start:.3f}s")


with @fn@("@label@"):
    total = sum(range(@big@))

=== python | Python
what: run a shell command and capture its output
what: call `@cmdname@` from Python
why: `subprocess.run` with `capture_output=True` returns the exit code, stdout and stderr in one
    object.
why: Run the command as a list of arguments and read `stdout` and `returncode` from the result.
note: Pass the command as a list so no shell is involved and nothing needs quoting.
note: Use `check=True` if a failing command should raise `CalledProcessError`.
pool: cmd|cmdname = "git", "status", "--short"|git status ;; "ls", "-la"|ls -la ;; "df", "-h"|df
    -h ;; "python", "--version"|python --version
pool: timeout = 10 ;; 30 ;; 60
pool: result = result ;; proc ;; completed
code:
import subprocess

@result@ = subprocess.run(
    [@cmd@],
    capture_output=True,
    text=True,
    check=False,
    timeout=@timeout@,
)
if @result@.returncode != 0:
    print("failed:", @result@.stderr.strip())
else:
    print(@result@.stdout.strip())

=== python | Python
what: generate a random password
what: create a secure random token of @len@ characters
why: The `secrets` module draws from the operating system's secure random source, unlike `random`.
why: Pick each character with `secrets.choice` from an alphabet of letters, digits and a few
    symbols.
note: Never use the `random` module for passwords or tokens.
note: `secrets.token_urlsafe(@len@)` is enough if you just need a random token.
pool: symbols = -_ ;; !#%+ ;; *.?
pool: fn = make_password ;; random_password ;; new_token
pool: len = 16 ;; 20 ;; 24
code:
import secrets
import string

ALPHABET = string.ascii_letters + string.digits + "@symbols@"


def @fn@(length=@len@):
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


print(@fn@())

=== python | asyncio
what: run several coroutines concurrently
what: wait for three async tasks at once
why: `asyncio.gather` starts the coroutines together and returns their results in the order you
    passed them.
why: Awaiting `gather` runs the coroutines concurrently on one event loop, so the waits overlap.
note: The whole run takes about as long as the slowest task, not the sum.
note: Pass `return_exceptions=True` if one failure should not cancel the others.
pool: fn = job ;; fake_fetch ;; work
pool: j1|j2|j3 = users|orders|stats ;; alpha|beta|gamma ;; eu|us|asia
code:
import asyncio


async def @fn@(name, delay):
    await asyncio.sleep(delay)
    return f"{name} done after {delay}s"


async def main():
    results = await asyncio.gather(
        @fn@("@j1@", 1.0), @fn@("@j2@", 0.5), @fn@("@j3@", 0.2)
    )
    for line in results:
        print(line)


asyncio.run(main())

=== bash | Bash
what: find files larger than @size@ MB
what: list the biggest files under @dir@
why: `find` with `-size` filters by size, and `sort -h` orders the human-readable sizes.
why: Let `find` pick the large files and `ls -lh` print their sizes, then sort by the size column.
note: Add `-xdev` to stay on one filesystem when you search from `/`.
note: Use `-size +1G` for gigabytes.
pool: dir = ~/Downloads ;; /var/log ;; . ;; /srv
pool: size = 50 ;; 100 ;; 500
pool: n = 10 ;; 20
code:
# files bigger than @size@ MB, largest last
find @dir@ -type f -size +@size@M -exec ls -lh {} + | sort -k5 -h | tail -n @n@

=== bash | Bash
what: delete files older than @days@ days
what: clean up old files in @dir@
why: `-mtime +N` matches files last changed more than N days ago; run it with `-print` first.
why: `find` can test the age of each file and delete the matches itself, no loop needed.
note: Keep `-delete` last, otherwise find deletes before it applies the other tests.
note: Put the command in a cron job to clean up automatically.
pool: dir = /tmp/exports ;; ~/backups ;; /var/cache/app
pool: days = 7 ;; 30 ;; 90
code:
# preview first
find @dir@ -type f -mtime +@days@ -print
# then delete
find @dir@ -type f -mtime +@days@ -delete

=== bash | Bash
what: replace @old@ with @new@ in every @ext@ file
what: search and replace text across files
why: `grep -rl` lists the files that contain the text, and `sed -i` rewrites each in place.
why: Find the files first so `sed` only touches those that actually contain the old text.
note: On macOS, `sed -i` needs an argument, so write `sed -i ''` there.
note: Commit or back up first, since the change happens in place.
pool: old|new = getUser|fetchUser ;; staging|production ;; colour|color
pool: ext = .py ;; .md ;; .yaml ;; .txt
code:
grep -rl "@old@" --include="*@ext@" . | xargs sed -i 's/@old@/@new@/g'

=== bash | Bash
what: create a dated tar.gz backup of a folder
what: archive @src@ with today's date in the name
why: `date +%Y-%m-%d` puts the day in the file name, and `-C` stores paths relative to the parent
    folder.
why: `tar -czf` writes a gzip-compressed archive; the date in the name keeps older backups apart.
note: `set -euo pipefail` stops the script at the first failing command.
note: List the archive with `tar -tzf` to check it.
pool: src = $HOME/projects/site ;; /srv/app/uploads ;; $HOME/Documents
pool: backup = /mnt/backup ;; $HOME/backups
pool: s|d = src|dest ;; source_dir|archive ;; folder|target
code:
#!/usr/bin/env bash
set -euo pipefail

@s@="@src@"
@d@="@backup@/$(basename "$@s@")-$(date +%Y-%m-%d).tar.gz"
tar -czf "$@d@" -C "$(dirname "$@s@")" "$(basename "$@s@")"
echo "wrote $@d@"

=== bash | Bash
what: rename all .@from@ files to .@to@
what: change the extension of many files at once
why: `${@f@%.@from@}` strips the old extension, and the loop renames each file in the folder.
why: A `for` loop over the glob visits each file; parameter expansion swaps the extension.
note: The `[ -e "$@f@" ]` check skips the literal pattern when no file matches.
note: `--` stops `mv` from reading a file name that starts with a dash as an option.
pool: from|to = txt|md ;; jpeg|jpg ;; htm|html ;; yml|yaml
pool: f = f ;; file ;; name
code:
for @f@ in *.@from@; do
    [ -e "$@f@" ] || continue
    mv -- "$@f@" "${@f@%.@from@}.@to@"
done

=== bash | Bash
what: check which process is using port @port@
what: find what is listening on a port
why: `lsof` shows the process that listens on the port, with its PID and user.
why: Ask `lsof` or `ss` for listening TCP sockets and filter by the port number.
note: Stop it with `kill <PID>`, and only reach for `kill -9` if it does not exit.
note: Without `sudo` you only see processes that belong to your user.
pool: port = 8080 ;; 5432 ;; 3000 ;; 5000
code:
sudo lsof -iTCP:@port@ -sTCP:LISTEN
# or, without lsof
sudo ss -ltnp | grep ':@port@ '

=== bash | Bash
what: show the last @level@ lines of a log
what: follow new @level@ messages in a log live
why: `grep -n` prints matching lines with their numbers, and `tail` keeps the newest ones.
why: Search case-insensitively with `grep -i`, then keep the end of the output or follow the file
    as it grows.
note: `--line-buffered` makes grep print each match at once when it reads from `tail -f`.
note: Use `journalctl -u <service> -p err` for services that log to systemd.
pool: level = error ;; exception ;; timeout
pool: log = /var/log/syslog ;; app.log ;; /var/log/nginx/error.log
pool: n = 20 ;; 50
code:
grep -n -i "@level@" @log@ | tail -n @n@
# follow new matches live
tail -f @log@ | grep --line-buffered -i "@level@"

=== bash | Bash
what: list the biggest folders in @dir@
what: see which directories use the most disk space
why: `du` sums each subfolder, and `sort -rh` puts the largest first.
why: `du -h --max-depth=1` gives one total per subfolder, which `sort -rh` ranks by size.
note: On macOS use `du -h -d 1`, because BSD du has no `--max-depth`.
note: Run it with `sudo` to include folders your user cannot read.
pool: dir = /var ;; ~ ;; /home ;; .
pool: n = 10 ;; 15
code:
du -h --max-depth=1 @dir@ 2>/dev/null | sort -rh | head -n @n@

=== bash | Bash
what: sync a folder to a backup drive
what: mirror @src@ to another disk
why: `rsync -a` copies only what changed and keeps permissions and timestamps.
why: `rsync` compares both sides and transfers only the differences, so repeated runs are fast.
note: The trailing slash on the source copies its contents, not the folder itself.
note: Try `--dry-run` before using `--delete`.
pool: src|dst = $HOME/Documents|/media/backup/documents ;; /srv/data|/mnt/nas/data ;;
    $HOME/Pictures|/media/usb/pictures
pool: exclude = .cache/ ;; node_modules/ ;; *.tmp
code:
rsync -avh --delete --exclude="@exclude@" "@src@/" "@dst@/"

=== bash | Bash
what: count lines of code in all @ext@ files
what: get line counts per file for a project
why: `wc -l` counts lines per file, and the last line of its output is the total.
why: Collect the files with `find`, count their lines with `wc -l` and sort by the count.
note: `-print0` and `xargs -0` cope with file names that contain spaces.
note: Tools such as `cloc` also skip blank lines and comments.
pool: ext = .py ;; .js ;; .go ;; .sql
pool: n = 10 ;; 25
code:
find . -name "*@ext@" -not -path "./.git/*" -print0 \
    | xargs -0 wc -l \
    | sort -n \
    | tail -n @n@

=== bash | Bash
what: wait until a web service responds
what: poll an endpoint until it is up
why: `curl -f` fails on HTTP errors, so the loop keeps polling until the endpoint says OK.
why: An `until` loop repeats the `curl` call until it succeeds, sleeping between attempts.
note: Wrap it in `timeout 60 bash -c '...'` so the script cannot wait forever.
note: `-sS` hides the progress bar but still shows errors.
pool: port = 8000 ;; 8080 ;; 3000
pool: path = health ;; healthz ;; api/status
pool: sleep = 1 ;; 2 ;; 5
code:
until curl -fsS "http://localhost:@port@/@path@" > /dev/null; do
    echo "waiting for service..."
    sleep @sleep@
done
echo "service is up"

=== bash | Bash | data
what: sum a column of @stem@.csv from the shell
what: add up numbers in a CSV with awk
why: `awk` splits each line on commas, skips the header with `NR > 1` and adds up the column.
why: One `awk` program is enough: accumulate the field on every data row and print the total at
    the end.
note: This breaks on quoted fields that contain commas; use a CSV-aware tool then.
note: Change `$@col@` to pick another column; awk counts from 1.
pool: col = 2 ;; 3 ;; 4
code:
awk -F',' 'NR > 1 { total += $@col@ } END { printf "%.2f\n", total }' @stem@.csv

=== bash | Bash
what: stop a process by name
what: kill every `@proc@` process
why: `pgrep -af` shows what matches first, then `pkill` sends a polite TERM before a forced KILL.
why: `pkill -f` matches the full command line, which helps for programs started by an interpreter.
note: Check the `pgrep` output first: a loose pattern can match more than you expect.
note: Give the process time to shut down cleanly before falling back to `-KILL`.
pool: proc = celery worker ;; node server.js ;; python train.py ;; gunicorn
pool: sleep = 5 ;; 10
code:
pgrep -af "@proc@"
pkill -TERM -f "@proc@"
sleep @sleep@
pgrep -f "@proc@" > /dev/null && pkill -KILL -f "@proc@"

=== bash | Bash | data
what: loop over the rows of @stem@.csv
what: read a CSV file line by line in a shell script
why: `while read -r` reads one line per iteration, and `IFS=,` splits it on commas into variables.
why: Feed the file into a `while read` loop and let `IFS=,` cut each line into named fields.
note: `-r` keeps backslashes literal; leave it out only if you know why.
note: `tail -n +2` skips the header row.
code:
while IFS=, read -r @key@ @cat@ _; do
    echo "$@key@ -> $@cat@"
done < <(tail -n +2 @stem@.csv)

=== bash | Bash
what: download a file and verify its SHA-256 checksum
what: check a download against a published hash
why: `curl -fLo` saves the file and fails on HTTP errors, and `sha256sum --check` compares the hash.
why: Download first, then feed the expected hash and the file name to `sha256sum --check`.
note: Two spaces between the hash and the file name are required by `sha256sum`.
note: On macOS use `shasum -a 256 --check` instead.
pool: pkg|sha = tool-1.4.2.tar.gz|d96d9691dce778c66c6dfadb7dd0e4e9c503d539d66aa1296c4ff44b55b6d6ba
    ;; data-2024.zip|712028a343bc1cd797c43a9348680995d4040224aed984fed256ee0ffa1d7849 ;;
    cli-linux-amd64.tar.gz|c41e099c6d674abbc83335304413b07f8f6e4c2aad8a0e83602a628779e63e01
code:
url="https://downloads.example.com/@pkg@"
curl -fLo "@pkg@" "$url"
echo "@sha@  @pkg@" | sha256sum --check -

=== sql | SQL | data
what: get the top @n@ @stem@ by @num@
what: find the @n@ largest values of @num@
why: Sort by the column in descending order and cut the result with `LIMIT`.
why: `ORDER BY ... DESC` puts the largest values first, and `LIMIT` keeps only the first rows.
note: The second sort column makes ties come back in a stable order.
note: Use `FETCH FIRST @n@ ROWS ONLY` on databases that do not support `LIMIT`.
pool: n = 5 ;; 10 ;; 20
code:
SELECT @key@, @cat@, @num@
FROM @stem@
ORDER BY @num@ DESC, @key@
LIMIT @n@;

=== sql | SQL | data
what: average @num@ per @cat@ for groups with at least @n@ rows
what: filter groups after a GROUP BY
why: `GROUP BY` builds one row per group, and `HAVING` filters the groups after aggregation.
why: Aggregate with `AVG` and `COUNT`, then keep only large enough groups in `HAVING`.
note: `WHERE` filters rows before grouping and `HAVING` filters groups after it.
note: Small groups give noisy averages, which is why the row count filter helps.
pool: n = 5 ;; 10 ;; 30
code:
SELECT @cat@, COUNT(*) AS n, ROUND(AVG(@num@), 2) AS avg_@num@
FROM @stem@
GROUP BY @cat@
HAVING COUNT(*) >= @n@
ORDER BY avg_@num@ DESC;

=== sql | SQL | data
what: show each @noun@ with its @label@ from @other@
what: join @stem@ to @other@
why: An inner join returns each row of `@stem@` next to its matching row in `@other@`.
why: Join on the foreign key `@fk@` and select columns from both tables.
note: Use `LEFT JOIN` instead if rows without a match should still appear.
note: Short table aliases keep the column list readable.
pool: t|o = t|o ;; a|b ;; x|y
code:
SELECT @t@.@key@, @t@.@num@, @o@.@label@
FROM @stem@ AS @t@
JOIN @other@ AS @o@ ON @o@.@fk@ = @t@.@fk@
ORDER BY @t@.@key@;

=== sql | SQL | data
what: select @stem@ from the last @days@ days
what: filter rows by a recent date range
why: Compare the date column with `CURRENT_DATE` minus an interval.
why: Subtract an `INTERVAL` from today's date and keep the rows on or after it.
note: An index on `@date@` keeps this fast on big tables.
note: The interval syntax shown is PostgreSQL; MySQL writes `CURDATE() - INTERVAL @days@ DAY`.
pool: days = 7 ;; 30 ;; 90
code:
SELECT *
FROM @stem@
WHERE @date@ >= CURRENT_DATE - INTERVAL '@days@ days'
ORDER BY @date@ DESC;

=== sql | SQL | data
what: find duplicate @stem@ by @cat@ and @date@
what: detect rows that appear more than once
why: Group by the columns that should be unique and keep the groups that occur more than once.
why: `HAVING COUNT(*) > 1` after grouping on the natural key lists every duplicated combination.
note: Join this back to the table on the same columns to see the full duplicate rows.
note: A unique constraint on these columns stops new duplicates.
code:
SELECT @cat@, @date@, COUNT(*) AS copies
FROM @stem@
GROUP BY @cat@, @date@
HAVING COUNT(*) > 1
ORDER BY copies DESC;

=== sql | SQL | data
what: compute a running total of @num@
what: add a cumulative sum column ordered by @date@
why: A window function, `SUM(...) OVER (ORDER BY ...)`, adds each row to all earlier rows.
why: Window functions keep every row while computing an aggregate over a moving frame.
note: Add `PARTITION BY @cat@` inside `OVER` to restart the total for each @cat@.
note: The `@key@` in the ordering breaks ties between rows with the same date.
code:
SELECT @date@,
       @num@,
       SUM(@num@) OVER (ORDER BY @date@, @key@) AS running_total
FROM @stem@
ORDER BY @date@, @key@;

=== sql | SQL | data
what: get the row with the highest @num@ in each @cat@
what: pick the top row per group
why: `ROW_NUMBER()` numbers the rows inside each group, so `rn = 1` keeps the top one.
why: Number the rows per group in a subquery, ordered by the value, then keep the first of each.
note: Use `RANK()` instead if every tied row should be returned.
note: PostgreSQL also offers `DISTINCT ON (@cat@)` for the same result.
code:
SELECT *
FROM (
    SELECT t.*,
           ROW_NUMBER() OVER (PARTITION BY @cat@ ORDER BY @num@ DESC) AS rn
    FROM @stem@ AS t
) ranked
WHERE rn = 1;

=== sql | SQL | data
what: speed up queries that filter on @cat@
what: add an index to @stem@
why: An index on the filtered column lets the database jump to matching rows instead of scanning
    the table.
why: Create a B-tree index on `@cat@`, then confirm with `EXPLAIN ANALYZE` that the planner uses it.
note: `CONCURRENTLY` avoids blocking writes in PostgreSQL but cannot run in a transaction.
note: Indexes speed up reads but slow down writes a little, so add only the ones you need.
code:
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_@stem@_@cat@
    ON @stem@ (@cat@);

EXPLAIN ANALYZE
SELECT * FROM @stem@ WHERE @cat@ = '@c1@';

=== sql | SQL | data
what: find @other@ that have no @stem@
what: list rows without a match in another table
why: A left join keeps every row of `@other@`, and `IS NULL` keeps those with no match.
why: This is an anti-join: join on `@fk@` and keep only the rows where the right side is missing.
note: `WHERE NOT EXISTS (...)` says the same and is often just as fast.
note: Avoid `NOT IN` with a subquery when the column can be NULL; it returns no rows then.
pool: t|o = t|o ;; s|p ;; child|parent
code:
SELECT @o@.*
FROM @other@ AS @o@
LEFT JOIN @stem@ AS @t@ ON @t@.@fk@ = @o@.@fk@
WHERE @t@.@fk@ IS NULL;

=== sql | SQL | data
what: change @num@ by a factor of @factor@ where @cat@ is '@c1@'
what: run a bulk UPDATE safely
why: Wrap the `UPDATE` in a transaction so you can inspect the result before it sticks.
why: Do the update inside `BEGIN` and `COMMIT`; if the check looks wrong, run `ROLLBACK` instead.
note: Run the `WHERE` clause as a `SELECT` first to see exactly which rows will change.
note: Large updates lock many rows, so run them outside peak hours.
pool: factor = 1.05 ;; 1.10 ;; 0.95
code:
BEGIN;
UPDATE @stem@
SET @num@ = ROUND(@num@ * @factor@, 2)
WHERE @cat@ = '@c1@';
-- check before making it permanent
SELECT @cat@, AVG(@num@) FROM @stem@ GROUP BY @cat@;
COMMIT;

=== sql | SQL | data
what: count @stem@ per month
what: aggregate @num@ by calendar month
why: `date_trunc('month', ...)` maps each date to the first day of its month, a clean grouping key.
why: Truncate the date to the month, group on it, and count and sum in the same query.
note: Months without rows are missing; join with `generate_series` to list every month.
note: Mind the time zone if `@date@` is a `timestamptz`.
code:
SELECT date_trunc('month', @date@) AS month,
       COUNT(*) AS n,
       SUM(@num@) AS total_@num@
FROM @stem@
GROUP BY month
ORDER BY month;

=== sql | SQL | data
what: compute each @cat@'s share of total @num@
what: show percentages of a grand total
why: The window `SUM(SUM(...)) OVER ()` puts the grand total next to each group's total.
why: Aggregate per group, then divide by a window sum over all groups to get percentages.
note: Multiplying by `100.0` forces decimal division instead of integer division.
note: The percentages may not add up to exactly 100 because of rounding.
code:
SELECT @cat@,
       SUM(@num@) AS total,
       ROUND(100.0 * SUM(@num@) / SUM(SUM(@num@)) OVER (), 1) AS pct
FROM @stem@
GROUP BY @cat@
ORDER BY pct DESC;

=== sql | SQL | data
what: insert a @noun@ or update it if it already exists
what: write an upsert for the @stem@ table
why: `ON CONFLICT ... DO UPDATE` turns the insert into an update when the key already exists.
why: PostgreSQL's upsert needs a unique constraint or primary key on the conflict column.
note: `EXCLUDED` refers to the row you tried to insert.
note: MySQL spells this `ON DUPLICATE KEY UPDATE`; SQLite supports the PostgreSQL form.
pool: id = 1 ;; 42 ;; 1001
code:
INSERT INTO @stem@ (@key@, @cat@, @num@)
VALUES (@id@, '@c1@', @v1@)
ON CONFLICT (@key@) DO UPDATE
SET @cat@ = EXCLUDED.@cat@,
    @num@ = EXCLUDED.@num@;

=== sql | SQL | data
what: create a @stem@ table with a foreign key and checks
what: define a table with constraints
why: Declare keys, `NOT NULL` and `CHECK` constraints in the table so the database rejects bad rows.
why: A foreign key to `@other@` guarantees that every `@fk@` points to an existing row.
note: Constraints in the schema catch bad data that application code would miss.
note: Add an index on `@fk@`; PostgreSQL does not create one for foreign keys.
code:
CREATE TABLE @stem@ (
    @key@ BIGSERIAL PRIMARY KEY,
    @fk@ BIGINT NOT NULL REFERENCES @other@ (@fk@),
    @cat@ TEXT NOT NULL,
    @num@ NUMERIC(12, 2) CHECK (@num@ >= 0),
    @date@ TIMESTAMPTZ NOT NULL DEFAULT now()
);

=== sql | SQL | data
what: count @stem@ per month split by @cat@
what: pivot category counts into columns
why: `COUNT(*) FILTER (WHERE ...)` counts only the matching rows, which turns categories into
    columns.
why: Conditional aggregation pivots rows into columns without a crosstab extension.
note: Databases without `FILTER` accept `SUM(CASE WHEN ... THEN 1 ELSE 0 END)`.
note: Each new category needs its own column in this form.
code:
SELECT date_trunc('month', @date@) AS month,
       COUNT(*) FILTER (WHERE @cat@ = '@c1@') AS "@c1@",
       COUNT(*) FILTER (WHERE @cat@ = '@c2@') AS "@c2@",
       COUNT(*) AS total
FROM @stem@
GROUP BY month
ORDER BY month;

=== sql | SQL | data
what: delete duplicate @stem@ but keep the oldest row
what: remove duplicate rows in PostgreSQL
why: Joining the table to itself finds every pair of duplicates, and `t.@key@ > d.@key@` keeps the
    smallest id.
why: `DELETE ... USING` joins the table with itself, so each duplicate with a larger id is removed.
note: Run it as a `SELECT` with the same join first to see what will go.
note: Add a unique constraint afterwards so the duplicates cannot come back.
code:
DELETE FROM @stem@ AS t
USING @stem@ AS d
WHERE t.@cat@ = d.@cat@
  AND t.@date@ = d.@date@
  AND t.@key@ > d.@key@;
"""


@dataclass(frozen=True, slots=True)
class CodeTask:
    """A programming task: instruction phrases, explanations, code template and notes."""

    lang: str
    tool: str
    data: bool
    whats: tuple[str, ...]
    whys: tuple[str, ...]
    notes: tuple[str, ...]
    pools: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    code: str


def parse_code_bank(bank: str) -> list[CodeTask]:
    """Parse CODE_BANK into CodeTask records."""
    tasks: list[CodeTask] = []
    for block in bank.strip().split("=== ")[1:]:
        header, _, rest = block.partition("\n")
        head, _, code = rest.partition("code:\n")
        lang, tool, *flags = (part.strip() for part in header.split("|"))
        fields: dict[str, list[str]] = {"what": [], "why": [], "note": [], "pool": []}
        for line in join_continuations(head.strip()):
            key, _, value = line.partition(": ")
            fields[key].append(value)
        pools = []
        for spec in fields["pool"]:
            names, _, options = spec.partition(" = ")
            pools.append((tuple(names.split("|")), tuple(options.split(" ;; "))))
        tasks.append(
            CodeTask(
                lang,
                tool,
                "data" in flags,
                tuple(fields["what"]),
                tuple(fields["why"]),
                tuple(fields["note"]),
                tuple(pools),
                code.strip("\n"),
            )
        )
    return tasks


CODE_TASKS = parse_code_bank(CODE_BANK)

CODE_QUESTIONS = (
    "How do I {what} in {tool}?",
    "Write a {tool} snippet to {what}.",
    "Show me how to {what} with {tool}.",
    "What's the quickest way to {what} in {tool}?",
    "I need to {what}. How would you do it in {tool}?",
    "Give me a short {tool} example that shows how to {what}.",
)
CODE_PREFIXES = ("", "", "", "Sure. ", "Here is one way. ", "This takes only a few lines. ")
CODE_NOTE_LEADS = ("", "", "Note: ", "Tip: ")
GENERIC_NOTES = {
    "python": (
        "Tested with Python 3.11.",
        "Wrap it in a function if you need it in more than one place.",
        "Add type hints once the snippet becomes part of a real module.",
    ),
    "bash": (
        "Try it on a copy of the data first.",
        "Quote variables that hold paths, in case they contain spaces.",
        "Works in bash and zsh on Linux.",
    ),
    "sql": (
        "The syntax is PostgreSQL, but it runs almost unchanged on most databases.",
        "Check the plan with `EXPLAIN` if it is slow on a large table.",
        "Test it on a staging copy before running it against production.",
    ),
}
_SLOT = re.compile(r"@([a-z][a-z0-9_]*)@")


def fill(template: str, values: dict[str, str]) -> str:
    """Replace ``@name@`` slots (two passes: a value may name another slot)."""
    for _ in range(2):
        template = _SLOT.sub(lambda match: values[match.group(1)], template)
    return template


def code_values(rng: random.Random, spec: CodeTask, dataset: dict[str, str]) -> dict[str, str]:
    """Pick slot values for one use of a task."""
    values = dict(dataset) if spec.data else {}
    for names, options in spec.pools:
        values.update(zip(names, rng.choice(options).split("|"), strict=True))
    return values


def render_code(rng: random.Random, spec: CodeTask, values: dict[str, str]) -> tuple[str, str]:
    """Instruction and response for one code task with its slot values."""
    what = fill(rng.choice(spec.whats), values)
    question = rng.choice(CODE_QUESTIONS).format(what=what, tool=spec.tool)
    chosen = [fill(rng.choice(spec.notes), values)]
    if rng.random() < 0.35:
        chosen.append(rng.choice(GENERIC_NOTES[spec.lang]))
    note = rng.choice(CODE_NOTE_LEADS) + " ".join(chosen)
    explanation = rng.choice(CODE_PREFIXES) + fill(rng.choice(spec.whys), values)
    code = fill(spec.code, values)
    response = f"{explanation}\n\n```{spec.lang}\n{code}\n```\n\n{note}"
    return question, response


# --------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------

NEAR_DUPLICATE_MAX = 0.38  # max word-bigram Jaccard between two pairs of the same topic/task
_TRIES_PER_KEY = 30
_WORD = re.compile(r"\w+")


def shingles(text: str) -> frozenset[str]:
    """Distinct case-folded word bigrams, as the pipeline's MinHash near-dedup uses them."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    if len(words) < 2:
        return frozenset(words)
    return frozenset(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a & b| / |a | b| (0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


class PairRegistry:
    """Accepted pairs of all sources: rejects repeated responses and near duplicates.

    Pairs are compared within a group (one topic or one code task), where near duplicates
    arise; keeping them below ``NEAR_DUPLICATE_MAX`` leaves SCAR's MinHash near-dedup
    (threshold 0.5) nothing to find but the planted exact duplicates.
    """

    def __init__(self, max_similarity: float = NEAR_DUPLICATE_MAX) -> None:
        self.max_similarity = max_similarity
        self.responses: set[str] = set()
        self.groups: dict[str, list[frozenset[str]]] = {}

    def admit(self, group: str, prompt: str, response: str) -> bool:
        """Record the pair and return True unless it repeats or nearly repeats another."""
        if response in self.responses:
            return False
        candidate = shingles(f"{prompt}\n{response}")
        members = self.groups.setdefault(group, [])
        if any(jaccard(candidate, other) > self.max_similarity for other in members):
            return False
        members.append(candidate)
        self.responses.add(response)
        return True


@dataclass(frozen=True, slots=True)
class Candidate:
    """One generated pair before admission: its group, texts and style."""

    group: str
    style: str
    prompt: str
    response: str
    record: dict[str, str]


def _source_rng(seed: int, source: str) -> random.Random:
    """An independent stream per source, so editing one source never reshuffles another."""
    return random.Random(f"{seed}:{source}")


def _fits(style: str, text: str) -> bool:
    low, high = WORD_BOUNDS[style]
    return low <= word_count(text) <= high


def collect(
    rng: random.Random,
    count: int,
    keys: Sequence[int],
    make: Callable[[int], Candidate],
    registry: PairRegistry,
) -> list[Candidate]:
    """Draw ``count`` admissible pairs, visiting keys in reshuffled rounds.

    A key (topic or task) that yields no admissible pair in ``_TRIES_PER_KEY`` attempts is
    retired, so narrow tasks contribute fewer pairs instead of near copies.
    """
    rows: list[Candidate] = []
    prompts: set[str] = set()
    live = list(keys)
    order: list[int] = []
    while len(rows) < count:
        if not order:
            if not live:
                raise RuntimeError(f"only {len(rows)} of {count} diverse pairs could be made")
            order = list(live)
            rng.shuffle(order)
        key = order.pop()
        for _ in range(_TRIES_PER_KEY):
            candidate = make(key)
            if candidate.prompt in prompts or not _fits(candidate.style, candidate.response):
                continue
            if registry.admit(candidate.group, candidate.prompt, candidate.response):
                prompts.add(candidate.prompt)
                rows.append(candidate)
                break
        else:
            live.remove(key)
    return rows


def forum_candidate(rng: random.Random, index: int) -> Candidate:
    """One forum row for topic ``index`` as an Alpaca record."""
    topic = TOPICS[index]
    question = forum_question(rng, topic)
    roll = rng.random()
    context = rng.choice(FORUM_CONTEXTS) if roll >= 0.62 and rng.random() < 0.8 else None
    if roll < 0.85:
        instruction, extra = question, context[0] if context else ""
    else:
        instruction = rng.choice(FORUM_REPLY_PROMPTS)
        extra = f"{question} {context[0]}" if context else question
    output = render_forum(rng, topic, context[1] if context else None)
    prompt = f"{instruction}\n\n{extra}" if extra else instruction
    record = {"instruction": instruction, "input": extra, "output": output}
    return Candidate(f"topic:{index}", "forum", prompt, output, record)


def guide_candidate(rng: random.Random, index: int) -> Candidate:
    """One guide for topic ``index``."""
    topic = TOPICS[index]
    audience = rng.randrange(len(AUDIENCES))
    template = rng.randrange(len(GUIDE_QUESTIONS))
    mistakes_first = GUIDE_QUESTIONS[template].startswith("What mistakes")
    question = guide_question(rng, topic, audience, template)
    answer = render_guide(rng, topic, audience, mistakes_first)
    record = {"prompt": question, "response": answer}
    return Candidate(f"topic:{index}", "guide", question, answer, record)


def code_candidate(rng: random.Random, index: int) -> Candidate:
    """One snippet for code task ``index``."""
    spec = CODE_TASKS[index]
    question, answer = render_code(rng, spec, code_values(rng, spec, rng.choice(DATASETS)))
    record = {"prompt": question, "response": answer}
    return Candidate(f"task:{index}", "code", question, answer, record)


def build_forum(seed: int, registry: PairRegistry) -> list[dict[str, str]]:
    """Clean forum rows as Alpaca records (``instruction``, ``input``, ``output``)."""
    rng = _source_rng(seed, FORUM)
    keys = range(len(TOPICS))
    rows = collect(rng, FORUM_COUNT, keys, lambda i: forum_candidate(rng, i), registry)
    return [row.record for row in rows]


def build_guides(seed: int, registry: PairRegistry) -> list[tuple[str, str]]:
    """Clean (question, answer) guide pairs."""
    rng = _source_rng(seed, GUIDES)
    keys = range(len(TOPICS))
    rows = collect(rng, GUIDE_COUNT, keys, lambda i: guide_candidate(rng, i), registry)
    return [(row.prompt, row.response) for row in rows]


def build_code(seed: int, registry: PairRegistry) -> list[tuple[str, str]]:
    """Clean (prompt, response) code pairs, tasks spread evenly."""
    rng = _source_rng(seed, CODE)
    keys = range(len(CODE_TASKS))
    rows = collect(rng, CODE_COUNT, keys, lambda i: code_candidate(rng, i), registry)
    return [(row.prompt, row.response) for row in rows]


def build_mixed(seed: int, registry: PairRegistry) -> list[tuple[str, str, str]]:
    """(style, prompt, response) rows, a third of each style, in shuffled order."""
    rng = _source_rng(seed, MIXED)
    makers: tuple[tuple[Callable[[random.Random, int], Candidate], int], ...] = (
        (forum_candidate, len(TOPICS)),
        (guide_candidate, len(TOPICS)),
        (code_candidate, len(CODE_TASKS)),
    )
    rows: list[Candidate] = []
    share = MIXED_COUNT // len(makers)
    for make, n_keys in makers:
        keys = rng.sample(range(n_keys), min(n_keys, 2 * share))
        rows += collect(rng, share, keys, lambda i, make=make: make(rng, i), registry)
    rng.shuffle(rows)
    return [(row.style, row.prompt, row.response) for row in rows]


# --------------------------------------------------------------------------------------------
# Planted dirty rows (forum_answers only)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Planted:
    """One deliberately dirty forum line: where it is and what is wrong with it."""

    file: str
    line: int
    kind: str
    detail: str
    duplicate_of: tuple[str, int] | None = None


PLANTED: tuple[Planted, ...] = (
    Planted("part-000.jsonl", 41, "malformed_json", "the line is cut off mid-string"),
    Planted("part-000.jsonl", 77, "empty_output", '"output" is the empty string'),
    Planted("part-000.jsonl", 103, "duplicate", "exact copy of line 12", ("part-000.jsonl", 12)),
    Planted("part-001.jsonl", 19, "missing_output", 'the "output" field is missing'),
    Planted(
        "part-001.jsonl",
        58,
        "duplicate",
        "same pair as part-000.jsonl line 30, written without the empty input key",
        ("part-000.jsonl", 30),
    ),
    Planted("part-001.jsonl", 86, "non_english", "Russian answer to an English question"),
)

_MALFORMED_LINE = (
    '{"instruction": "how do i get my sourdough to rise more", "input": "", "output": '
    '"longer proof and a warmer spot, mine was sitting at like 18c and'
)
_EMPTY_OUTPUT = {"instruction": "Best way to clean a cast iron pan?", "input": "", "output": ""}
_MISSING_OUTPUT = {
    "instruction": "How do I stop my laptop from overheating?",
    "input": "It's an old gaming laptop.",
}
_NON_ENGLISH = {
    "instruction": "Any tips to keep houseplants alive?",
    "output": (
        "честно говоря поливаю только когда верхний слой земли сухой и беру горшки с дырками "
        "снизу, иначе корни гниют. у меня так все живы уже год"
    ),
}


def _json_line(record: dict[str, str]) -> str:
    return json.dumps(record, ensure_ascii=False)


def _without_empty_input(record: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in record.items() if key != "input" or value}


def forum_files(rows: list[dict[str, str]]) -> dict[str, list[str]]:
    """Split clean rows over the two files and insert the planted lines at their positions."""
    half = len(rows) // 2
    first, second = list(rows[:half]), list(rows[half:])
    dup_index = 30 - 1  # the cross-file duplicate needs an empty input; swap one in if not
    if first[dup_index]["input"]:
        swap = next(i for i in range(dup_index + 1, half) if not first[i]["input"])
        first[dup_index], first[swap] = first[swap], first[dup_index]
    lines = {
        FORUM_FILES[0]: [_json_line(row) for row in first],
        FORUM_FILES[1]: [_json_line(_without_empty_input(row)) for row in second],
    }
    by_kind = {
        "malformed_json": lambda p: _MALFORMED_LINE,
        "empty_output": lambda p: _json_line(_EMPTY_OUTPUT),
        "missing_output": lambda p: _json_line(_MISSING_OUTPUT),
        "non_english": lambda p: _json_line(_NON_ENGLISH),
    }
    for planted in sorted(PLANTED, key=lambda p: (p.file, p.line)):
        if planted.duplicate_of is not None:
            file, line = planted.duplicate_of
            record = json.loads(lines[file][line - 1])
            if file != planted.file:
                record = _without_empty_input(record)
            text = _json_line(record)
        else:
            text = by_kind[planted.kind](planted)
        lines[planted.file].insert(planted.line - 1, text)
    return lines


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def write_parquet(path: Path, prompts: list[str], responses: list[str]) -> Path:
    """Parquet with fixed settings (one row group, snappy, no statistics) for stable bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "prompt": pa.array(prompts, type=pa.string()),
            "response": pa.array(responses, type=pa.string()),
        }
    )
    pq.write_table(
        table,
        path,
        row_group_size=max(len(prompts), 1),
        compression="snappy",
        use_dictionary=False,
        write_statistics=False,
        data_page_version="1.0",
        version="2.6",
    )
    return path


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts reported in the README and by the CLI."""

    seed: int
    forum_lines: dict[str, int]
    forum_with_input: int
    guides: int
    code: int
    mixed: dict[str, int]


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(str(cell) for cell in line) + " |" for line in lines)


def readme(summary: Summary) -> str:
    """The data/sample/README.md text."""
    forum_total = sum(summary.forum_lines.values())
    forum_files = ", ".join(f"`{name}` ({n} lines)" for name, n in summary.forum_lines.items())
    mixed_split = ", ".join(f"{n} {style}" for style, n in summary.mixed.items())
    bounds = {style: f"{low}-{high} words" for style, (low, high) in WORD_BOUNDS.items()}
    sources = _table(
        ["source", "format", "file(s)", "rows", "style"],
        [
            [
                f"`{FORUM}`",
                "Alpaca JSONL (`instruction`, `input`, `output`)",
                forum_files,
                f"{forum_total} lines: {FORUM_COUNT} clean + {len(PLANTED)} planted",
                f"terse human forum answers, {bounds['forum']}: lowercase, abbreviations, "
                "a few typos, no markdown",
            ],
            [
                f"`{GUIDES}`",
                "ShareGPT/Vicuna JSON array (`id`, `conversations`: `from` human/gpt, `value`)",
                f"`{GUIDE_FILE}`",
                summary.guides,
                f"structured assistant guides, {bounds['guide']}: intro line, `##` headers, "
                "lists, **bold** terms, summary sentence",
            ],
            [
                f"`{CODE}`",
                "Parquet (`prompt`, `response`)",
                f"`{CODE_FILE}`",
                summary.code,
                f"programming Q&A, {bounds['code']}: one explanation sentence, a fenced "
                "`python`/`bash`/`sql` block, a short note",
            ],
            [
                f"`{MIXED}`",
                "JSONL (`prompt`, `response`)",
                f"`{MIXED_FILE}`",
                sum(summary.mixed.values()),
                f"the three styles mixed in one source ({mixed_split})",
            ],
        ],
    )
    planted = _table(
        ["file", "line", "kind", "detail"],
        [[f"`{FORUM}/{p.file}`", p.line, f"`{p.kind}`", p.detail] for p in PLANTED],
    )
    return f"""# Bundled sample data

Generated by `scripts/generate_sample_data.py --seed {summary.seed}`; do not edit by hand. Every
text was written by that script from its own templates and word lists (no model, no third-party
dataset). Re-running it reproduces these files byte for byte (`tests/unit/test_sample_data.py`
checks this).

{sources}

`{FORUM}/{FORUM_FILES[0]}` writes `input` on every row, `{FORUM_FILES[1]}` only when it is
non-empty, as a second export tool would. {summary.forum_with_input} of the {FORUM_COUNT} clean
forum rows carry a non-empty `input` (context, or the question under a generic instruction).

Apart from the planted rows there is no exact duplicate pair and no repeated prompt within a
source, and no two pairs of one topic or code task share more than {NEAR_DUPLICATE_MAX:.0%} of
their word bigrams, so MinHash near-dedup (SCAR's threshold 0.5) has nothing else to find.

## Planted dirty rows

All in `{FORUM}`, so the demo shows ingest quarantine, exact dedup and the language filter at
work. Lines are 1-based.

{planted}

Expected ingest of `{FORUM}`: {forum_total} lines -> {FORUM_COUNT + 1} kept ({FORUM_COUNT} English
rows plus the Russian one), 3 quarantined (malformed JSON, empty output, missing output) and 2
exact duplicates. The English filter drops the Russian row later (SCAR's heuristic: more than 70%
of the letters are ASCII; a Spanish answer would pass it, hence a non-Latin script).
"""


def generate(out: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write every sample file under ``out`` and return their paths."""
    registry = PairRegistry()
    forum_rows = build_forum(seed, registry)
    guide_pairs = build_guides(seed, registry)
    code_pairs = build_code(seed, registry)
    mixed_rows = build_mixed(seed, registry)

    written: list[Path] = []
    for name, lines in forum_files(forum_rows).items():
        written.append(_write_text(out / FORUM / name, "\n".join(lines) + "\n"))
    guides = [
        {
            "id": f"guide-{i:04d}",
            "conversations": [{"from": "human", "value": q}, {"from": "gpt", "value": a}],
        }
        for i, (q, a) in enumerate(guide_pairs, start=1)
    ]
    guides_text = json.dumps(guides, ensure_ascii=False, indent=2) + "\n"
    written.append(_write_text(out / GUIDES / GUIDE_FILE, guides_text))
    written.append(
        write_parquet(
            out / CODE / CODE_FILE, [q for q, _ in code_pairs], [a for _, a in code_pairs]
        )
    )
    mixed_text = "".join(
        _json_line({"prompt": prompt, "response": response}) + "\n"
        for _, prompt, response in mixed_rows
    )
    written.append(_write_text(out / MIXED / MIXED_FILE, mixed_text))

    counts = {style: sum(1 for s, _, _ in mixed_rows if s == style) for style in WORD_BOUNDS}
    forum_lines = {
        name: (out / FORUM / name).read_text(encoding="utf-8").count("\n") for name in FORUM_FILES
    }
    with_input = sum(1 for row in forum_rows if row["input"])
    summary = Summary(seed, forum_lines, with_input, len(guide_pairs), len(code_pairs), counts)
    written.append(_write_text(out / "README.md", readme(summary)))
    return written


def main(argv: Sequence[str] | None = None) -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    for path in generate(args.out, args.seed):
        print(path)


if __name__ == "__main__":
    main()
