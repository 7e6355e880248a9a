"""Word lists for realistic, entirely fictional demo data."""

from __future__ import annotations

FIRST_NAMES = """Ada Alan Alice Amara Amelia Ana Andre Anna Arjun Astrid Ava Ben Bianca Carla Carlos
Chen Chloe Clara Daniel David Diego Elena Eli Emil Emma Erik Ethan Eva Fatima Felix Finn Freya
Gabriel Grace Hana Hannah Hugo Ines Isaac Isabel Ivan Jack Jade James Jana Javier Jonas Julia
Kai Karim Kenji Lara Laura Lea Leo Liam Lina Lucas Luca Lucy Maja Marco Maria Mateo Maya Mia
Mila Mohammed Nadia Naomi Nina Noah Nora Olga Oliver Omar Oscar Paula Pedro Priya Rafael Ravi
Rosa Ruben Sara Sofia Sven Tariq Theo Tomas Valentina Victor Wei Yara Yusuf Zoe Zofia""".split()

LAST_NAMES = """Abbott Adler Alvarez Andersen Bakker Barros Becker Berg Bianchi Brandt Castro Chen
Costa Dahl Dubois Eriksen Ferreira Fischer Garcia Gomez Hansen Hartmann Hoffmann Horvat Ito Jansen
Jovanovic Kaur Keller Khan Kim Klein Kowalski Kruger Lang Larsen Laurent Lee Lindqvist Lopez
Lorenz Maier Marino Martin Meyer Moreau Muller Nakamura Nguyen Nielsen Novak Okafor Olsen Otto
Patel Peeters Perez Petrov Popescu Ramos Reyes Ricci Rossi Santos Sato Schmidt Schneider Silva
Singh Smith Sorensen Suzuki Tanaka Thomas Torres Vogel Wagner Walsh Weber Wolf Wong Yilmaz Young
Zhang Zimmermann""".split()

COMPANY_PREFIXES = """Acme Apex Arcadia Aster Atlas Aurora Beacon Blue Bright Cascade Cedar Cobalt
Crest Delta Echo Ember Falcon Fjord Granite Harbor Helix Horizon Indigo Iron Juniper Keystone
Lumen Maple Meridian Nimbus Northwind Nova Oak Orbit Pioneer Polar Quartz Redwood Sable Sierra
Silver Summit Tidal Trident Umbra Vertex Willow Zenith""".split()

COMPANY_SUFFIXES = """Analytics Systems Labs Logistics Health Foods Energy Robotics Software Capital
Retail Networks Works Dynamics Media Bio Cloud Security Freight Studios""".split()

INDUSTRIES = [
    "Software", "Financial Services", "Healthcare", "Manufacturing", "Retail", "Logistics",
    "Education", "Energy", "Telecommunications", "Media", "Professional Services", "Public Sector",
]

JOB_TITLES: dict[str, list[str]] = {
    "c_level": ["Chief Executive Officer", "Chief Technology Officer", "Chief Revenue Officer",
                "Chief Financial Officer", "Chief Operating Officer"],
    "vp": ["VP Sales", "VP Engineering", "VP Marketing", "VP Operations", "VP Finance"],
    "director": ["Director of IT", "Director of Sales Operations", "Director of Marketing",
                 "Head of Data", "Head of Procurement"],
    "manager": ["IT Manager", "Marketing Manager", "Sales Manager", "Operations Manager",
                "Product Manager"],
    "individual_contributor": ["Software Engineer", "Data Analyst", "Marketing Specialist",
                               "Account Executive", "Operations Analyst"],
}

COUNTRIES: list[tuple[str, str, str, int]] = [
    # code, region, calling code, weight
    ("US", "North America", "1", 30), ("CA", "North America", "1", 5),
    ("GB", "EMEA", "44", 12), ("DE", "EMEA", "49", 12), ("FR", "EMEA", "33", 8),
    ("NL", "EMEA", "31", 5), ("SE", "EMEA", "46", 3), ("ES", "EMEA", "34", 4),
    ("IT", "EMEA", "39", 3), ("PL", "EMEA", "48", 2), ("AU", "APAC", "61", 5),
    ("JP", "APAC", "81", 4), ("SG", "APAC", "65", 2), ("IN", "APAC", "91", 3),
    ("BR", "LATAM", "55", 2),
]

TEAMS = ["North America", "EMEA", "APAC", "LATAM"]

CONTENT = ["state-of-sales-2025", "roi-calculator", "security-whitepaper", "buyers-guide",
           "case-study-logistics", "case-study-retail", "integration-checklist"]
PAGES = ["/", "/product", "/features/analytics", "/features/automation", "/customers",
         "/blog/lead-scoring", "/blog/gdpr-for-sales", "/integrations", "/about"]
