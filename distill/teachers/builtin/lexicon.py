"""What the built-in teacher knows about the world: names, places, companies, products and the
ways people write values. It stands in for the knowledge a real LLM teacher brings, so that the
Mash holds values no Recipe listed (a student that only ever sees the Recipe's examples learns
the examples, not the task)."""

FIRST_NAMES = [
    # English-speaking
    "James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda", "William", "Elizabeth", "Richard",
    "Barbara", "Joseph", "Susan", "Thomas", "Jessica", "Christopher", "Sarah", "Daniel", "Karen", "Matthew", "Nancy",
    "Anthony", "Lisa", "Mark", "Betty", "Steven", "Sandra", "Paul", "Ashley", "Andrew", "Emily", "Joshua", "Donna",
    "Kevin", "Michelle", "Brian", "Carol", "George", "Amanda", "Timothy", "Melissa", "Ronald", "Deborah", "Jason",
    "Stephanie", "Ryan", "Rebecca", "Gary", "Laura", "Nicholas", "Helen", "Eric", "Sharon", "Jacob", "Cynthia",
    "Oliver", "Amelia", "Harry", "Isla", "Jack", "Ava", "Charlie", "Mia", "Freddie", "Grace", "Alfie", "Poppy",
    "Bethany", "Gareth", "Siobhan", "Declan", "Niamh", "Callum", "Fiona", "Hamish", "Morag", "Rhys", "Cerys",
    # Spanish, Portuguese, Italian, French
    "José", "María", "Juan", "Carmen", "Luis", "Lucía", "Javier", "Sofía", "Alejandro", "Valentina", "Diego",
    "Camila", "João", "Ana", "Pedro", "Beatriz", "Tiago", "Inês", "Giulia", "Marco", "Francesca", "Luca", "Chiara",
    "Matteo", "Jean", "Camille", "Pierre", "Chloé", "Louis", "Léa", "Hugo", "Manon", "Antoine", "Élodie",
    # German, Dutch, Nordic, Slavic
    "Jürgen", "Anke", "Klaus", "Sabine", "Lukas", "Lena", "Maximilian", "Hannah", "Sven", "Ingrid", "Lars",
    "Astrid", "Bram", "Femke", "Anneke", "Piotr", "Agnieszka", "Tomasz", "Katarzyna", "Dmitri", "Olga", "Ivan",
    "Natasha", "Milan", "Jana", "Petr", "Zuzana",
    # South Asian, East Asian, Southeast Asian
    "Priya", "Rahul", "Ananya", "Arjun", "Deepika", "Vikram", "Sanjay", "Lakshmi", "Aarav", "Kavya", "Wei",
    "Xiaoling", "Jun", "Mei", "Hiroshi", "Yuki", "Haruto", "Sakura", "Min-jun", "Ji-woo", "Seo-yeon", "Thanh",
    "Linh", "Nguyen", "Siti", "Budi", "Ayu", "Maricel", "Jomar",
    # African, Middle Eastern
    "Chinedu", "Ngozi", "Oluwaseun", "Adaeze", "Kwame", "Abena", "Thabo", "Lerato", "Wanjiru", "Kofi", "Amara",
    "Tendai", "Mohammed", "Fatima", "Ahmed", "Aisha", "Omar", "Layla", "Yusuf", "Zainab", "Hassan", "Mariam",
    "Ali", "Noor", "Reza", "Shirin", "Emre", "Elif", "Mehmet", "Zeynep", "Avi", "Noa", "Yael", "Eitan",
]

LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas",
    "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Hill", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell",
    "Roberts", "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Morris",
    "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson", "Reed", "Bailey", "Bell", "Kelly", "Howard",
    "O'Connor", "O'Sullivan", "MacDonald", "McKenzie", "Fitzgerald", "Gallagher", "Hughes", "Pritchard", "Llewellyn",
    "García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez", "Ramírez", "Torres",
    "Flores", "Rivera", "Gómez", "Díaz", "Silva", "Santos", "Oliveira", "Souza", "Costa", "Ferreira", "Rossi",
    "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Bernard", "Dubois", "Moreau", "Laurent",
    "Lefebvre", "Fontaine", "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Hoffmann", "Schulz", "de Vries", "van der Berg", "Jansen", "Bakker", "Visser", "Andersson", "Johansson",
    "Nilsson", "Hansen", "Larsen", "Virtanen", "Kowalski", "Nowak", "Wiśniewski", "Novák", "Ivanov", "Petrov",
    "Sokolov", "Horvat", "Patel", "Sharma", "Singh", "Kumar", "Gupta", "Reddy", "Iyer", "Nair", "Chatterjee",
    "Banerjee", "Das", "Chen", "Wang", "Li", "Zhang", "Liu", "Huang", "Zhao", "Wu", "Tanaka", "Suzuki", "Sato",
    "Takahashi", "Watanabe", "Yamamoto", "Kim", "Lee", "Park", "Choi", "Jung", "Tran", "Le", "Pham", "Santoso",
    "Reyes", "Cruz", "Okafor", "Adeyemi", "Okonkwo", "Mensah", "Asante", "Boateng", "Nkosi", "Dlamini", "Mwangi",
    "Otieno", "Haddad", "Khalil", "Nasser", "Hussein", "Rahman", "Karimi", "Hosseini", "Yılmaz", "Demir", "Kaya",
    "Cohen", "Levi", "Friedman", "Goldberg",
]

TITLES = ["Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Ms.", "Miss", "Dr", "Dr.", "Prof.", "Professor", "Sir", "Mx"]

CITIES = [
    "London", "Manchester", "Leeds", "Glasgow", "Edinburgh", "Cardiff", "Bristol", "Belfast", "Dublin", "Cork",
    "New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Philadelphia", "San Antonio", "San Diego",
    "Dallas", "Austin", "Seattle", "Denver", "Boston", "Atlanta", "Miami", "Portland", "Toronto", "Montreal",
    "Vancouver", "Calgary", "Sydney", "Melbourne", "Brisbane", "Perth", "Auckland", "Wellington", "Paris", "Lyon",
    "Marseille", "Berlin", "Munich", "Hamburg", "Cologne", "Vienna", "Zurich", "Geneva", "Amsterdam", "Rotterdam",
    "Brussels", "Madrid", "Barcelona", "Seville", "Valencia", "Lisbon", "Porto", "Rome", "Milan", "Naples",
    "Turin", "Stockholm", "Oslo", "Copenhagen", "Helsinki", "Warsaw", "Krakow", "Prague", "Budapest", "Athens",
    "Istanbul", "Cairo", "Lagos", "Nairobi", "Accra", "Johannesburg", "Cape Town", "Casablanca", "Dubai",
    "Mumbai", "Delhi", "Bangalore", "Chennai", "Singapore", "Kuala Lumpur", "Jakarta", "Manila", "Bangkok",
    "Hanoi", "Tokyo", "Osaka", "Seoul", "Beijing", "Shanghai", "Hong Kong", "Taipei", "Mexico City", "Bogotá",
    "Lima", "Santiago", "Buenos Aires", "São Paulo", "Rio de Janeiro",
]

COUNTRIES = ["the UK", "Ireland", "the US", "Canada", "Australia", "New Zealand", "France", "Germany", "Spain",
             "Portugal", "Italy", "the Netherlands", "Belgium", "Switzerland", "Austria", "Sweden", "Norway",
             "Denmark", "Poland", "Greece", "Turkey", "Egypt", "Nigeria", "Kenya", "South Africa", "India",
             "Singapore", "Japan", "South Korea", "China", "Thailand", "Vietnam", "Mexico", "Brazil", "Argentina"]

COMPANIES = ["Amazon", "Apple", "Google", "Microsoft", "Netflix", "Spotify", "Uber", "Lyft", "Airbnb", "PayPal",
             "eBay", "Walmart", "Target", "Costco", "IKEA", "Tesco", "Sainsbury's", "Aldi", "Lidl", "Carrefour",
             "Starbucks", "McDonald's", "Deliveroo", "DoorDash", "FedEx", "UPS", "DHL", "Royal Mail", "Hermes",
             "Vodafone", "Verizon", "AT&T", "T-Mobile", "BT", "Comcast", "Shell", "BP", "Ryanair", "easyJet",
             "Delta", "United", "Lufthansa", "Emirates", "Booking.com", "Expedia", "Zara", "H&M", "Nike", "Adidas",
             "Samsung", "Sony", "Dell", "HP", "Best Buy", "Currys", "Argos", "Shopify", "Etsy", "Steam",
             "PlayStation Store", "Disney+", "Hulu", "Audible", "Patreon", "Revolut", "Monzo", "Wise", "Klarna"]

PRODUCTS = ["iPhone 15", "iPhone 13 Pro", "Galaxy S23", "Pixel 8", "MacBook Air", "iPad", "AirPods Pro",
            "Kindle", "Echo Dot", "PlayStation 5", "Xbox Series X", "Nintendo Switch", "ThinkPad X1", "Dyson V11",
            "Nespresso Vertuo", "Instant Pot", "Fitbit Charge 6", "Apple Watch", "Surface Pro", "GoPro Hero 12",
            "Roomba", "Kindle Paperwhite", "Chromebook", "Galaxy Buds", "Ring doorbell", "Nest thermostat",
            "Premium plan", "Family plan", "Pro subscription", "Gold membership", "Basic tier"]

STREET_NAMES = ["Main", "High", "Church", "Park", "Oak", "Maple", "Cedar", "Elm", "Pine", "Washington", "Lincoln",
                "Station", "Victoria", "Queen", "King", "Mill", "Bridge", "Green", "Kingfisher", "Meadow",
                "Orchard", "Willow", "Harbour", "Market", "Castle", "Chestnut", "Birch", "Riverside", "Sunset",
                "Lakeview", "Hillcrest", "Peachtree", "Magnolia", "Juniper", "Hawthorn", "Primrose", "Beacon"]
STREET_TYPES = ["Street", "St", "Road", "Rd", "Avenue", "Ave", "Lane", "Drive", "Dr", "Close", "Court", "Way",
                "Place", "Boulevard", "Blvd", "Crescent", "Terrace", "Grove"]
US_STATES = ["CA", "NY", "TX", "FL", "IL", "PA", "OH", "GA", "NC", "MI", "WA", "MA", "AZ", "CO", "OR", "TN"]
CA_PROVINCES = ["ON", "QC", "BC", "AB", "MB", "NS", "SK", "NB"]
ES_CITIES = ["Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Málaga"]
IT_CITIES = ["Roma", "Milano", "Torino", "Bologna", "Firenze", "Napoli"]
DE_STREETS = ["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Lindenallee", "Schillerstraße", "Goethestraße",
              "Kirchplatz", "Am Markt", "Rosenweg", "Bergstraße"]
FR_STREETS = ["rue de la Paix", "rue Oberkampf", "avenue Victor Hugo", "boulevard Voltaire", "rue des Lilas",
              "place de la République", "rue du Moulin", "chemin des Vignes"]

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
MONTHS_SHORT = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
RELATIVE_DAYS = ["yesterday", "today", "tomorrow", "last week", "next week", "on Monday", "this morning",
                 "last night", "two days ago", "last month", "over the weekend", "earlier today", "a fortnight ago"]
EMAIL_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.co.uk", "icloud.com", "proton.me", "aol.com",
                 "gmx.de", "web.de", "orange.fr", "libero.it", "example.com", "company.co", "mail.ru",
                 "yahoo.co.in", "btinternet.com", "work-mail.org", "uni.edu"]
