//! Embedded reference lists: first names, surnames, nickname groups and
//! Coventry street names.
//!
//! Every list is ordered from most to least common. Sampling weights are
//! derived from the rank alone (`1_000_000 / (rank + 10)`, a Zipf-Mandelbrot
//! curve with exponent 1), computed with integer arithmetic so that the
//! choice is identical on every platform.
//!
//! The names are grouped by broad heritage so that a household gets
//! consistent names (a Polish family is mostly given Polish names), with some
//! mixing across groups as in any real city. The group weights are loosely
//! based on the published 2021 Census ethnic make-up of Coventry.

use crate::random::Rand;

/// One heritage group of names.
pub(crate) struct Origin {
    /// Short label, used only in tests and documentation.
    #[allow(dead_code)]
    pub(crate) label: &'static str,
    /// Relative share of households (out of 100).
    pub(crate) weight: u32,
    /// Male first names typical of people born before 2000.
    pub(crate) male_older: &'static [&'static str],
    /// Male first names typical of people born since 2000.
    pub(crate) male_younger: &'static [&'static str],
    /// Female first names typical of people born before 2000.
    pub(crate) female_older: &'static [&'static str],
    /// Female first names typical of people born since 2000.
    pub(crate) female_younger: &'static [&'static str],
    /// Surnames, in the masculine form where the language distinguishes.
    pub(crate) surnames: &'static [&'static str],
    /// Whether surnames take a feminine form (Polish, Czech, Baltic...).
    pub(crate) gendered_surnames: bool,
}

/// Index of the British and Irish (including Caribbean-British) group.
pub(crate) const BRITISH: usize = 0;
/// Index of the Indian Sikh and Hindu group (Singh and Kaur).
pub(crate) const INDIAN: usize = 1;

#[rustfmt::skip]
const MALE_BRITISH_OLDER: &[&str] = &[
    "David", "John", "Paul", "Mark", "Michael", "Andrew", "Peter", "Stephen", "Robert", "James",
    "Richard", "Ian", "Christopher", "Gary", "Steven", "Anthony", "Alan", "Kevin", "Martin",
    "Simon", "Neil", "Darren", "Lee", "Matthew", "Daniel", "Thomas", "William", "Jason", "Craig",
    "Stuart", "Graham", "Keith", "Philip", "Brian", "Colin", "Trevor", "Barry", "Dean", "Jonathan",
    "Nicholas", "Timothy", "Adrian", "Gareth", "Carl", "Shaun", "Derek", "Roger", "Terence",
    "Dennis", "Raymond", "Kenneth", "Geoffrey", "Malcolm", "Nigel", "Russell", "Jamie", "Scott",
    "Ryan", "Liam", "Sean", "Declan", "Gavin", "Callum", "Ross", "Fraser", "Hamish", "Alasdair",
    "Euan", "Dafydd", "Gethin", "Rhodri", "Aled", "Seán", "Ciarán", "Pádraig", "Eoin", "Cathal",
    "Delroy", "Winston", "Leroy", "Errol", "Clive", "Desmond", "Frederick", "Alexander", "Edward",
    "Joseph", "Samuel", "Benjamin", "Patrick", "Gregory",
];

#[rustfmt::skip]
const MALE_BRITISH_YOUNGER: &[&str] = &[
    "Oliver", "George", "Harry", "Noah", "Jack", "Leo", "Arthur", "Oscar", "Charlie", "Jacob",
    "Freddie", "Alfie", "Theo", "Thomas", "Archie", "Henry", "Joshua", "Isaac", "Finley", "Teddy",
    "Alexander", "Lucas", "Edward", "Max", "Riley", "Tommy", "Reggie", "Albie", "Louie", "Logan",
    "Harrison", "Mason", "Ethan", "Jayden", "Tyler", "Kai", "Elijah", "Joseph", "Samuel",
    "Benjamin", "Daniel", "James", "William", "Lewis", "Jenson", "Ronnie", "Stanley", "Hugo",
    "Rory", "Toby", "Jude", "Zachary", "Ezra", "Luca", "Frankie", "Bobby", "Jaxon", "Kian",
    "Callum", "Connor", "Aaron", "Bradley", "Kieran", "Nathan", "Jordan", "Reece", "Luke", "Adam",
    "Harvey", "Ollie", "Dylan", "Owen", "Rhys", "Cian", "Oisín", "Darragh", "Iwan", "Jake", "Liam",
    "Tristan",
];

#[rustfmt::skip]
const FEMALE_BRITISH_OLDER: &[&str] = &[
    "Susan", "Sarah", "Karen", "Julie", "Lisa", "Nicola", "Helen", "Claire", "Tracey", "Joanne",
    "Amanda", "Michelle", "Deborah", "Elizabeth", "Margaret", "Patricia", "Linda", "Sandra",
    "Carol", "Christine", "Janet", "Jacqueline", "Angela", "Dawn", "Donna", "Kelly", "Emma",
    "Rachel", "Rebecca", "Louise", "Kerry", "Gemma", "Samantha", "Natalie", "Victoria", "Catherine",
    "Jennifer", "Kathleen", "Maureen", "Pauline", "Barbara", "Jean", "Valerie", "Gillian", "Wendy",
    "Alison", "Diane", "Beverley", "Lorraine", "Hayley", "Stacey", "Leanne", "Sharon", "Yvonne",
    "Marcia", "Paulette", "Fiona", "Kirsty", "Morag", "Eilidh", "Sian", "Bethan", "Rhiannon",
    "Siobhán", "Niamh", "Aoife", "Róisín", "Renée", "Zoë", "Charlotte", "Laura", "Katherine",
    "Anne", "Mary",
];

#[rustfmt::skip]
const FEMALE_BRITISH_YOUNGER: &[&str] = &[
    "Olivia", "Amelia", "Isla", "Ava", "Ivy", "Freya", "Lily", "Florence", "Mia", "Willow", "Rosie",
    "Sophia", "Isabella", "Grace", "Daisy", "Sienna", "Poppy", "Elsie", "Emily", "Ella", "Evelyn",
    "Phoebe", "Sofia", "Evie", "Charlotte", "Harper", "Millie", "Matilda", "Maya", "Sophie",
    "Alice", "Isabelle", "Ruby", "Esme", "Chloe", "Jessica", "Lucy", "Hannah", "Megan", "Holly",
    "Amber", "Erin", "Eva", "Scarlett", "Harriet", "Imogen", "Lola", "Maisie", "Eliza", "Aria",
    "Luna", "Hallie", "Bonnie", "Violet", "Mila", "Thea", "Zara", "Darcie", "Lacey", "Skye",
    "Kayla", "Courtney", "Shannon", "Jade", "Abigail", "Zoë", "Chloé", "Eleanor", "Ellie",
    "Georgia", "Niamh", "Caitlin", "Bethany", "Lyla",
];

#[rustfmt::skip]
const SURNAMES_BRITISH: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
    "Clarke", "Clark", "Harris", "Turner", "Hill", "Edwards", "Lewis", "Hughes", "Cooper", "Moore",
    "King", "Lee", "Baker", "Harrison", "Martin", "Morgan", "Allen", "Ward", "Morris", "James",
    "Phillips", "Watson", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell",
    "Kelly", "Cook", "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy",
    "Miller", "Cox", "Richards", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Wilkinson",
    "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason", "Hunt", "Campbell",
    "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight", "Lloyd", "Butler",
    "Russell", "Barker", "Fisher", "Stevens", "Jenkins", "Murray", "Dixon", "Harvey", "Graham",
    "Pearson", "Fletcher", "Walsh", "Gibson", "Howard", "Andrews", "Stewart", "Elliott", "Reynolds",
    "Saunders", "Payne", "Fox", "Ford", "Pearce", "Day", "Brooks", "West", "Lawrence", "Cole",
    "Atkinson", "Bradley", "Spencer", "Dawson", "Ball", "Burton", "O'Brien", "Watts", "Rose",
    "Booth", "Perry", "Ryan", "Grant", "Wells", "Armstrong", "Francis", "Rees", "Hayes", "Hart",
    "Hudson", "Newman", "Barrett", "Webster", "Hunter", "Gregory", "Carr", "Lowe", "Page", "Marsh",
    "Riley", "Dunn", "Woods", "Parsons", "Berry", "Stone", "Reid", "Holland", "Hawkins", "Harding",
    "Porter", "Robertson", "Newton", "Oliver", "Reed", "Kennedy", "Williamson", "Bird", "Gardner",
    "Dean", "Lane", "Cooke", "Bates", "Henderson", "Parry", "Burgess", "Bishop", "Walton", "Burns",
    "Nicholson", "Shepherd", "Ross", "Cross", "Long", "Freeman", "Warren", "Nicholls", "Hamilton",
    "Byrne", "Sutton", "McDonald", "Yates", "Hodgson", "Robson", "Curtis", "Hopkins", "O'Connor",
    "Harper", "Coleman", "Watkins", "Moss", "McCarthy", "Chambers", "O'Neill", "Griffin", "Sharp",
    "Hardy", "Wheeler", "Potter", "Osborne", "Johnston", "Gordon", "Doyle", "Wallace", "George",
    "Jordan", "Hutchinson", "Reeves", "Higgins", "Sullivan", "Morton", "Fraser", "Fitzgerald",
    "MacKenzie", "McLaughlin", "Quinn", "Gallagher", "Brennan", "Doherty", "Kavanagh", "Boyle",
    "Duffy", "Maguire", "Llewellyn", "Pritchard", "Vaughan", "Bowen", "Howells", "Thomas",
    "Samuels", "Beckford", "Henry", "Charles", "Joseph", "Forbes", "McKenzie", "Gayle", "Lindo",
    "Ferguson", "Whyte", "O'Neil", "Ó Briain", "Smith-Jones", "Taylor-Brown", "Hughes-Evans",
    "Lloyd-Davies", "Ó Súilleabháin", "Mac Giolla",
];

#[rustfmt::skip]
const MALE_INDIAN: &[&str] = &[
    "Harpreet", "Gurpreet", "Arjun", "Rohan", "Jaswinder", "Manjit", "Aarav", "Vihaan", "Krish",
    "Dev", "Rahul", "Sanjay", "Rajesh", "Vijay", "Amit", "Nikhil", "Kuldip", "Sukhdev", "Harjit",
    "Paramjit", "Balwinder", "Jaspal", "Gurdeep", "Rajinder", "Kamal", "Rakesh", "Suresh", "Ramesh",
    "Dinesh", "Mahesh", "Anil", "Pradeep", "Kabir", "Ishaan", "Aryan", "Jaskaran", "Gurveer",
    "Arjan", "Hardeep", "Ravi", "Sunil", "Ajay", "Vikram", "Manish", "Jatinder", "Ranjit",
];

#[rustfmt::skip]
const FEMALE_INDIAN: &[&str] = &[
    "Priya", "Harpreet", "Gurpreet", "Simran", "Anjali", "Pooja", "Neha", "Sunita", "Anita",
    "Kavita", "Meena", "Rekha", "Asha", "Jaswinder", "Manjit", "Rajinder", "Kulwinder",
    "Sukhwinder", "Navdeep", "Amrit", "Jasleen", "Harleen", "Manpreet", "Kiran", "Divya", "Riya",
    "Diya", "Aanya", "Ishani", "Parminder", "Baljit", "Jasvir", "Sonia", "Nisha", "Shreya",
    "Anushka", "Jasmeet",
];

#[rustfmt::skip]
const SURNAMES_INDIAN: &[&str] = &[
    "Patel", "Singh", "Kaur", "Gill", "Sandhu", "Sidhu", "Dhillon", "Johal", "Bains", "Sangha",
    "Atwal", "Bassi", "Kang", "Grewal", "Sahota", "Virdee", "Mann", "Dhaliwal", "Bhogal", "Mistry",
    "Parmar", "Solanki", "Chauhan", "Mehta", "Desai", "Joshi", "Sharma", "Kumar", "Gupta", "Verma",
    "Lad", "Makwana", "Chohan", "Kalsi", "Hayer", "Nahal", "Rai", "Thakrar", "Pandya", "Rana",
    "Ghosh", "Das", "Bose", "Shah",
];

/// Surnames of Sikh families, who often also carry Singh or Kaur as a
/// middle name.
#[rustfmt::skip]
pub(crate) const SIKH_SURNAMES: &[&str] = &[
    "Singh", "Gill", "Sandhu", "Sidhu", "Dhillon", "Johal", "Bains", "Sangha", "Atwal", "Bassi",
    "Kang", "Grewal", "Sahota", "Virdee", "Mann", "Dhaliwal", "Bhogal", "Chohan", "Kalsi", "Hayer",
    "Nahal",
];

#[rustfmt::skip]
const MALE_PAKISTANI_BANGLADESHI: &[&str] = &[
    "Mohammed", "Muhammad", "Ali", "Ahmed", "Hassan", "Hussain", "Ibrahim", "Yusuf", "Bilal",
    "Hamza", "Imran", "Asif", "Tariq", "Zain", "Ayaan", "Rayyan", "Shahid", "Khalid", "Nadeem",
    "Faisal", "Sajid", "Rizwan", "Abdul", "Rahim", "Shafiq", "Jamal", "Arman", "Zayn", "Haroon",
    "Usman", "Waqar", "Saeed", "Javed", "Naveed", "Kamran", "Adeel", "Aamir", "Shoaib", "Arif",
    "Idris",
];

#[rustfmt::skip]
const FEMALE_PAKISTANI_BANGLADESHI: &[&str] = &[
    "Fatima", "Aisha", "Maryam", "Zainab", "Khadija", "Ayesha", "Amina", "Hafsa", "Sana", "Nadia",
    "Samina", "Shabana", "Nasreen", "Parveen", "Rukhsana", "Farzana", "Shazia", "Saima", "Iqra",
    "Anaya", "Nusrat", "Rubina", "Tahmina", "Shirin", "Hina", "Mehreen", "Alisha", "Inaaya",
    "Hajra", "Safiya", "Bushra", "Sadia", "Raheela",
];

#[rustfmt::skip]
const SURNAMES_PAKISTANI_BANGLADESHI: &[&str] = &[
    "Khan", "Ali", "Ahmed", "Hussain", "Begum", "Mahmood", "Iqbal", "Akhtar", "Rahman", "Islam",
    "Uddin", "Miah", "Chowdhury", "Hossain", "Bibi", "Rashid", "Aziz", "Malik", "Butt", "Raja",
    "Qureshi", "Sheikh", "Anwar", "Javed", "Riaz", "Saleem", "Mirza", "Chaudhry", "Nawaz", "Bashir",
    "Yousaf", "Latif", "Siddiqui", "Ansari",
];

#[rustfmt::skip]
const MALE_POLISH: &[&str] = &[
    "Łukasz", "Piotr", "Krzysztof", "Tomasz", "Paweł", "Michał", "Marcin", "Kamil", "Jakub",
    "Mateusz", "Adam", "Bartosz", "Dawid", "Szymon", "Wojciech", "Grzegorz", "Marek", "Andrzej",
    "Jan", "Filip", "Oskar", "Antoni", "Sebastian", "Patryk", "Damian", "Przemysław", "Rafał",
    "Adrian",
];

#[rustfmt::skip]
const FEMALE_POLISH: &[&str] = &[
    "Małgorzata", "Katarzyna", "Agnieszka", "Anna", "Magdalena", "Joanna", "Aleksandra", "Monika",
    "Ewa", "Justyna", "Karolina", "Natalia", "Zuzanna", "Julia", "Maja", "Zofia", "Hanna", "Lena",
    "Oliwia", "Weronika", "Paulina", "Dominika", "Sylwia", "Beata", "Iwona", "Marta",
];

#[rustfmt::skip]
const SURNAMES_POLISH: &[&str] = &[
    "Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski",
    "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur",
    "Kwiatkowski", "Krawczyk", "Piotrowski", "Grabowski", "Nowakowski", "Pawłowski", "Michalski",
    "Król", "Wieczorek", "Jabłoński", "Wróbel", "Majewski", "Olszewski", "Stępień", "Malinowski",
    "Jaworski", "Adamczyk", "Dudek", "Nowicki", "Zając", "Pietrzak", "Sikora", "Baran",
    "Wróblewski",
];

#[rustfmt::skip]
const MALE_EAST_EUROPEAN: &[&str] = &[
    "Andrei", "Ionuț", "Alexandru", "Mihai", "Gheorghe", "Vasile", "Florin", "Bogdan", "Cristian",
    "Marius", "Jiří", "Tomáš", "Petr", "Lukáš", "Aleksandr", "Dmitri", "Oleksandr", "Andriy",
    "Ivan", "Vytautas", "Mindaugas", "Tautvydas", "Jānis", "Darius", "Nikola", "Georgi", "Viktor",
];

#[rustfmt::skip]
const FEMALE_EAST_EUROPEAN: &[&str] = &[
    "Ioana", "Elena", "Andreea", "Mihaela", "Cristina", "Alina", "Gabriela", "Roxana", "Raluca",
    "Simona", "Denisa", "Tereza", "Lucie", "Kateřina", "Petra", "Olga", "Tatiana", "Irina",
    "Svetlana", "Yulia", "Kristina", "Inga", "Rūta", "Ieva", "Agnė", "Daria", "Milena",
];

#[rustfmt::skip]
const SURNAMES_EAST_EUROPEAN: &[&str] = &[
    "Popescu", "Ionescu", "Popa", "Stan", "Dumitru", "Constantin", "Rusu", "Munteanu", "Stoica",
    "Popovici", "Marin", "Kazlauskas", "Jankauskas", "Petrauskas", "Dvořák", "Novák", "Svoboda",
    "Novotný", "Černý", "Horváth", "Kovács", "Tóth", "Nagy", "Shevchenko", "Kovalenko",
    "Bondarenko", "Ozols", "Bērziņš", "Ivanov", "Petrov", "Georgiev", "Dimitrov",
];

#[rustfmt::skip]
const MALE_MIDDLE_EASTERN: &[&str] = &[
    "Omar", "Ahmad", "Mahmoud", "Mustafa", "Khaled", "Youssef", "Karim", "Sami", "Tarek", "Hadi",
    "Adnan", "Abdullah", "Abdirahman", "Abdi", "Hussein", "Mehmet", "Emre", "Burak", "Murat",
    "Kerem", "Yiğit", "Hasan", "Ayman", "Saif", "Rashid", "Nabil", "Walid", "Zaid", "Amir", "Reza",
    "Dara", "Rebin", "Hiwa", "Farhad", "Samir",
];

#[rustfmt::skip]
const FEMALE_MIDDLE_EASTERN: &[&str] = &[
    "Fatma", "Ayşe", "Elif", "Zeynep", "Emine", "Hatice", "Merve", "Leila", "Yasmin", "Mariam",
    "Noor", "Huda", "Rania", "Salma", "Lina", "Dina", "Rana", "Hawa", "Hodan", "Faadumo", "Sahra",
    "Amal", "Nour", "Shilan", "Zhila", "Hana", "Rim", "Samira", "Layla", "Ebru",
];

#[rustfmt::skip]
const SURNAMES_MIDDLE_EASTERN: &[&str] = &[
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Özdemir", "Arslan",
    "Doğan", "Kılıç", "Abdullah", "Mohamed", "Hassan", "Osman", "Ibrahim", "Abdi", "Farah",
    "Warsame", "Jama", "Hersi", "Al-Hashimi", "Al-Sayed", "El-Amin", "Haddad", "Khalil", "Nasser",
    "Saleh", "Mansour", "Karimi", "Ahmadi", "Hosseini", "Rahimi", "Mohammadi", "Barzani", "Kurdi",
];

#[rustfmt::skip]
const MALE_AFRICAN: &[&str] = &[
    "Oluwaseun", "Chinedu", "Emeka", "Tunde", "Babatunde", "Olumide", "Femi", "Kwame", "Kofi",
    "Kwabena", "Yaw", "Kojo", "Chukwuemeka", "Ifeanyi", "Obinna", "Segun", "Ayodele", "Adewale",
    "Tendai", "Tafadzwa", "Samuel", "Emmanuel", "Daniel", "David", "Joshua", "Divine", "Godwin",
    "Prince", "Isaac", "Elijah", "Abdoulaye", "Mamadou",
];

#[rustfmt::skip]
const FEMALE_AFRICAN: &[&str] = &[
    "Chioma", "Ngozi", "Adaeze", "Chiamaka", "Funmilayo", "Folake", "Oluwadamilola", "Temitope",
    "Abimbola", "Yetunde", "Ama", "Akosua", "Abena", "Efua", "Adwoa", "Nneka", "Ifeoma", "Blessing",
    "Precious", "Mercy", "Grace", "Esther", "Deborah", "Favour", "Chipo", "Rudo", "Tsitsi",
    "Fatoumata", "Mariama",
];

#[rustfmt::skip]
const SURNAMES_AFRICAN: &[&str] = &[
    "Okafor", "Okonkwo", "Adeyemi", "Adebayo", "Ogunleye", "Oyelaran", "Olawale", "Balogun", "Eze",
    "Nwosu", "Obi", "Nwachukwu", "Chukwu", "Okoro", "Ibe", "Mensah", "Owusu", "Boateng", "Asante",
    "Osei", "Appiah", "Agyemang", "Darko", "Amoah", "Addo", "Danso", "Bello", "Abubakar", "Musa",
    "Moyo", "Ncube", "Dube", "Sibanda", "Mutasa", "Kamara", "Conteh", "Sesay", "Diallo", "Traoré",
];

#[rustfmt::skip]
const MALE_EAST_ASIAN: &[&str] = &[
    "Wei", "Jun", "Hao", "Jian", "Ming", "Yang", "Lei", "Tao", "Chen", "Kai", "Minh", "Tuan",
    "Duc", "Hiroshi", "Kenji", "Zihan",
];

#[rustfmt::skip]
const FEMALE_EAST_ASIAN: &[&str] = &[
    "Mei", "Ying", "Xin", "Li", "Hui", "Jing", "Yan", "Ling", "Xiu", "Lan", "Linh", "Thuy", "Hoa",
    "Yuki", "Ai", "Yi",
];

#[rustfmt::skip]
const SURNAMES_EAST_ASIAN: &[&str] = &[
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma",
    "Zhu", "Hu", "Lin", "Wong", "Chan", "Cheung", "Lam", "Nguyen", "Tran", "Le", "Pham", "Ng",
];

#[rustfmt::skip]
const MALE_WEST_EUROPEAN: &[&str] = &[
    "José", "João", "Miguel", "Pedro", "Carlos", "Luis", "António", "Francesco", "Marco",
    "Giuseppe", "Luca", "Pierre", "Jean", "François", "Hans", "Jürgen", "Klaus", "Stefan", "Lars",
    "Søren", "Matteo", "Javier",
];

#[rustfmt::skip]
const FEMALE_WEST_EUROPEAN: &[&str] = &[
    "María", "Ana", "Carmen", "Inês", "Beatriz", "Giulia", "Francesca", "Chiara", "Sofía", "Marie",
    "Camille", "Renée", "Chloé", "Amélie", "Hélène", "Annika", "Ingrid", "Sigrid", "Greta", "Heidi",
    "Sabine", "Lucía",
];

#[rustfmt::skip]
const SURNAMES_WEST_EUROPEAN: &[&str] = &[
    "García", "Fernández", "Rodríguez", "López", "Martínez", "Silva", "Santos", "Ferreira",
    "Pereira", "Costa", "Oliveira", "Rossi", "Russo", "Bianchi", "Romano", "Esposito", "Müller",
    "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Dubois", "Laurent", "Lefèvre",
    "Moreau", "Jansen", "de Vries", "van den Berg", "Hansen", "Nielsen", "Andersson",
];

/// The heritage groups, with their share of households.
pub(crate) const ORIGINS: &[Origin] = &[
    Origin {
        label: "British, Irish and Caribbean",
        weight: 58,
        male_older: MALE_BRITISH_OLDER,
        male_younger: MALE_BRITISH_YOUNGER,
        female_older: FEMALE_BRITISH_OLDER,
        female_younger: FEMALE_BRITISH_YOUNGER,
        surnames: SURNAMES_BRITISH,
        gendered_surnames: false,
    },
    Origin {
        label: "Indian Sikh and Hindu",
        weight: 10,
        male_older: MALE_INDIAN,
        male_younger: MALE_INDIAN,
        female_older: FEMALE_INDIAN,
        female_younger: FEMALE_INDIAN,
        surnames: SURNAMES_INDIAN,
        gendered_surnames: false,
    },
    Origin {
        label: "Pakistani, Bangladeshi and other South Asian Muslim",
        weight: 7,
        male_older: MALE_PAKISTANI_BANGLADESHI,
        male_younger: MALE_PAKISTANI_BANGLADESHI,
        female_older: FEMALE_PAKISTANI_BANGLADESHI,
        female_younger: FEMALE_PAKISTANI_BANGLADESHI,
        surnames: SURNAMES_PAKISTANI_BANGLADESHI,
        gendered_surnames: false,
    },
    Origin {
        label: "Polish",
        weight: 5,
        male_older: MALE_POLISH,
        male_younger: MALE_POLISH,
        female_older: FEMALE_POLISH,
        female_younger: FEMALE_POLISH,
        surnames: SURNAMES_POLISH,
        gendered_surnames: true,
    },
    Origin {
        label: "Romanian, Baltic, Czech, Hungarian, Ukrainian and Bulgarian",
        weight: 4,
        male_older: MALE_EAST_EUROPEAN,
        male_younger: MALE_EAST_EUROPEAN,
        female_older: FEMALE_EAST_EUROPEAN,
        female_younger: FEMALE_EAST_EUROPEAN,
        surnames: SURNAMES_EAST_EUROPEAN,
        gendered_surnames: true,
    },
    Origin {
        label: "West and Southern African",
        weight: 7,
        male_older: MALE_AFRICAN,
        male_younger: MALE_AFRICAN,
        female_older: FEMALE_AFRICAN,
        female_younger: FEMALE_AFRICAN,
        surnames: SURNAMES_AFRICAN,
        gendered_surnames: false,
    },
    Origin {
        label: "Arabic, Turkish, Kurdish, Somali and Iranian",
        weight: 3,
        male_older: MALE_MIDDLE_EASTERN,
        male_younger: MALE_MIDDLE_EASTERN,
        female_older: FEMALE_MIDDLE_EASTERN,
        female_younger: FEMALE_MIDDLE_EASTERN,
        surnames: SURNAMES_MIDDLE_EASTERN,
        gendered_surnames: false,
    },
    Origin {
        label: "Chinese and East Asian",
        weight: 3,
        male_older: MALE_EAST_ASIAN,
        male_younger: MALE_EAST_ASIAN,
        female_older: FEMALE_EAST_ASIAN,
        female_younger: FEMALE_EAST_ASIAN,
        surnames: SURNAMES_EAST_ASIAN,
        gendered_surnames: false,
    },
    Origin {
        label: "Western and Southern European",
        weight: 3,
        male_older: MALE_WEST_EUROPEAN,
        male_younger: MALE_WEST_EUROPEAN,
        female_older: FEMALE_WEST_EUROPEAN,
        female_younger: FEMALE_WEST_EUROPEAN,
        surnames: SURNAMES_WEST_EUROPEAN,
        gendered_surnames: false,
    },
];

/// Groups of interchangeable forms of a first name: the first entry is the
/// formal name, the others are nicknames, short forms, anglicised forms or
/// transliteration variants that appear in other agencies' records.
pub(crate) const NICKNAMES: &[&[&str]] = &[
    &[
        "Elizabeth",
        "Liz",
        "Beth",
        "Lizzie",
        "Eliza",
        "Betty",
        "Libby",
    ],
    &["William", "Bill", "Will", "Billy", "Liam"],
    &[
        "Mohammed", "Mohammad", "Muhammad", "Mohamed", "Mohamad", "Muhammed",
    ],
    &["Muhammad", "Mohammed", "Mohammad", "Mohamed"],
    &["Aleksandra", "Ola", "Alexandra", "Ala"],
    &["Robert", "Rob", "Bob", "Bobby", "Robbie"],
    &["Richard", "Rich", "Rick", "Richie", "Dick"],
    &["James", "Jim", "Jimmy", "Jamie"],
    &["Michael", "Mike", "Mick", "Mickey"],
    &["Christopher", "Chris", "Kit"],
    &["Anthony", "Tony", "Ant"],
    &["Thomas", "Tom", "Tommy"],
    &["Daniel", "Dan", "Danny"],
    &["Matthew", "Matt"],
    &["Andrew", "Andy", "Drew"],
    &["Stephen", "Steve", "Steven"],
    &["Steven", "Steve", "Stephen"],
    &["Joseph", "Joe", "Joey"],
    &["Samuel", "Sam", "Sammy"],
    &["Benjamin", "Ben", "Benny"],
    &["Alexander", "Alex", "Alec", "Sandy"],
    &["Edward", "Ed", "Eddie", "Ted"],
    &["Jonathan", "Jon", "Johnny"],
    &["John", "Jack", "Johnny"],
    &["Nicholas", "Nick", "Nicky"],
    &["Timothy", "Tim"],
    &["Peter", "Pete"],
    &["David", "Dave", "Davey"],
    &["Frederick", "Fred", "Freddie"],
    &["Alfie", "Alfred", "Alf"],
    &["Archie", "Archibald"],
    &["Henry", "Harry", "Hal"],
    &["Oliver", "Ollie", "Olly"],
    &["Joshua", "Josh"],
    &["Zachary", "Zach", "Zack"],
    &["Charles", "Charlie", "Chas"],
    &["Lewis", "Louis", "Louie"],
    &["Theo", "Theodore"],
    &["Kenneth", "Ken", "Kenny"],
    &["Raymond", "Ray"],
    &["Terence", "Terry"],
    &["Gregory", "Greg"],
    &["Philip", "Phil", "Phillip"],
    &["Patrick", "Paddy", "Pat"],
    &["Margaret", "Maggie", "Peggy", "Meg"],
    &["Catherine", "Cathy", "Kate", "Katie", "Katherine"],
    &["Katherine", "Kathryn", "Kate", "Katie", "Catherine"],
    &["Rebecca", "Becky", "Becca"],
    &["Victoria", "Vicky", "Tori"],
    &["Samantha", "Sam", "Sammy"],
    &["Jennifer", "Jenny", "Jen"],
    &["Deborah", "Debbie", "Debra"],
    &["Susan", "Sue", "Suzie"],
    &["Patricia", "Pat", "Trish"],
    &["Christine", "Chris", "Chrissie", "Christina"],
    &["Jacqueline", "Jackie"],
    &["Nicola", "Nicki", "Nicky"],
    &["Amanda", "Mandy"],
    &["Alexandra", "Alex", "Lexi"],
    &["Isabella", "Bella", "Izzy", "Isabel"],
    &["Isabelle", "Izzy", "Isabel", "Belle"],
    &["Abigail", "Abbie", "Abi"],
    &["Charlotte", "Lottie", "Charlie"],
    &["Eleanor", "Ellie", "Nell"],
    &["Florence", "Flo", "Florrie"],
    &["Matilda", "Tilly"],
    &["Natalie", "Nat"],
    &["Gemma", "Jemma"],
    &["Zoë", "Zoe", "Zoey"],
    &["Chloé", "Chloe"],
    &["Sophie", "Sophia"],
    &["Sofia", "Sophia", "Sofie"],
    &["Layla", "Leila", "Laila"],
    &["Leila", "Layla", "Laila"],
    &["Aisha", "Ayesha", "Aishah"],
    &["Ayesha", "Aisha"],
    &["Fatima", "Fatema", "Fatimah"],
    &["Maryam", "Mariam", "Miriam"],
    &["Mariam", "Maryam"],
    &["Yusuf", "Yousef", "Youssef"],
    &["Youssef", "Yusuf", "Yousef"],
    &["Ibrahim", "Ebrahim"],
    &["Hussain", "Hussein", "Husain"],
    &["Hussein", "Hussain"],
    &["Ahmed", "Ahmad", "Ahmet"],
    &["Ahmad", "Ahmed"],
    &["Omar", "Umar"],
    &["Hamza", "Hamzah"],
    &["Mustafa", "Mustapha", "Mostafa"],
    &["Mahmoud", "Mahmood", "Mahmud"],
    &["Khadija", "Khadijah", "Khadeeja"],
    &["Katarzyna", "Kasia", "Kate"],
    &["Małgorzata", "Gosia", "Margaret"],
    &["Łukasz", "Lukasz", "Luke"],
    &["Krzysztof", "Krzys", "Chris"],
    &["Wojciech", "Wojtek"],
    &["Agnieszka", "Aga"],
    &["Aleksandr", "Sasha", "Alex"],
    &["Oleksandr", "Sasha", "Alex"],
    &["Oluwaseun", "Seun"],
    &["Oluwadamilola", "Dami", "Damilola"],
    &["Babatunde", "Tunde"],
    &["Chukwuemeka", "Emeka"],
    &["Funmilayo", "Funmi"],
    &["Temitope", "Tope"],
    &["Jaswinder", "Jas"],
    &["Rajinder", "Raj"],
    &["Sukhwinder", "Sukhi"],
    &["Ayşe", "Ayse", "Aise"],
    &["José", "Jose", "Pepe"],
    &["Siobhán", "Siobhan", "Shivaun"],
    &["Niamh", "Neve", "Neeve"],
    &["Seán", "Sean", "Shaun", "Shawn"],
    &["Ciarán", "Ciaran", "Kieran"],
    &["Dafydd", "Dai", "Dave"],
];

/// Streets of Coventry with their postcode district (CV1 to CV7).
pub(crate) const MAIN_STREETS: &[(&str, u8)] = &[
    ("Far Gosford Street", 1),
    ("Gosford Street", 1),
    ("Spon Street", 1),
    ("Hertford Street", 1),
    ("Jordan Well", 1),
    ("Queen Victoria Road", 1),
    ("Priory Street", 1),
    ("Bishop Street", 1),
    ("Corporation Street", 1),
    ("Lower Ford Street", 1),
    ("Much Park Street", 1),
    ("Hales Street", 1),
    ("Cox Street", 1),
    ("Raglan Street", 1),
    ("Swanswell Street", 1),
    ("Hill Street", 1),
    ("Upper Well Street", 1),
    ("Holyhead Road", 1),
    ("Stoney Stanton Road", 1),
    ("Alma Street", 1),
    ("Vecqueray Street", 1),
    ("King William Street", 1),
    ("Primrose Hill Street", 1),
    ("Coundon Road", 1),
    ("Walsgrave Road", 2),
    ("Ansty Road", 2),
    ("Sewall Highway", 2),
    ("Bell Green Road", 2),
    ("Henley Road", 2),
    ("Wyken Croft", 2),
    ("Hipswell Highway", 2),
    ("Clifford Bridge Road", 2),
    ("Blackberry Lane", 2),
    ("Hinckley Road", 2),
    ("Woodway Lane", 2),
    ("Deedmore Road", 2),
    ("Dorchester Way", 2),
    ("Attoxhall Road", 2),
    ("Binley Road", 3),
    ("London Road", 3),
    ("Daventry Road", 3),
    ("Kenilworth Road", 3),
    ("Quinton Road", 3),
    ("Humber Road", 3),
    ("Remembrance Road", 3),
    ("Stonebridge Highway", 3),
    ("Leasowes Avenue", 3),
    ("Brinklow Road", 3),
    ("Allard Way", 3),
    ("Leamington Road", 3),
    ("Baginton Road", 3),
    ("Green Lane", 3),
    ("Finham Green Road", 3),
    ("Tile Hill Lane", 4),
    ("Charter Avenue", 4),
    ("Gibbet Hill Road", 4),
    ("Cannon Hill Road", 4),
    ("Fletchamstead Highway", 4),
    ("Torrington Avenue", 4),
    ("Jardine Crescent", 4),
    ("Westwood Heath Road", 4),
    ("Mitchell Avenue", 4),
    ("Sutton Avenue", 4),
    ("Earlsdon Avenue North", 5),
    ("Earlsdon Avenue South", 5),
    ("Earlsdon Street", 5),
    ("Albany Road", 5),
    ("Allesley Old Road", 5),
    ("Broad Lane", 5),
    ("Hearsall Lane", 5),
    ("Moor Street", 5),
    ("Berkeley Road North", 5),
    ("Beechwood Avenue", 5),
    ("Kingsbury Road", 5),
    ("Birmingham Road", 5),
    ("Templar Avenue", 5),
    ("Foleshill Road", 6),
    ("Holbrook Lane", 6),
    ("Radford Road", 6),
    ("Keresley Road", 6),
    ("Longford Road", 6),
    ("Jubilee Crescent", 6),
    ("Beake Avenue", 6),
    ("Burnaby Road", 6),
    ("Holmsdale Road", 6),
    ("Lockhurst Lane", 6),
    ("Station Street East", 6),
    ("Eagle Street", 6),
    ("Broad Street", 6),
    ("Cross Road", 6),
    ("Hen Lane", 6),
    ("Wheelwright Lane", 6),
    ("Hollyfast Road", 6),
    ("Barker Butts Lane", 6),
    ("Engleton Road", 6),
    ("Daimler Road", 6),
    ("Tamworth Road", 7),
    ("Bennetts Road", 7),
    ("Blackhorse Road", 7),
    ("Ash Green Lane", 7),
    ("Bennetts Road North", 7),
    ("Watery Lane", 7),
];

/// First words of side-street names, combined with [`STREET_TYPES`].
#[rustfmt::skip]
pub(crate) const STREET_STEMS: &[&str] = &[
    "Alder", "Ash", "Beech", "Birch", "Cedar", "Elm", "Hazel", "Holly", "Laurel", "Maple", "Oak",
    "Rowan", "Willow", "Yew", "Sherbourne", "Avon", "Sowe", "Radford", "Keresley", "Allesley",
    "Canley", "Cheylesmore", "Whitley", "Stoke", "Wyken", "Binley", "Willenhall", "Ansty",
    "Walsgrave", "Coundon", "Chapelfields", "Hillfields", "Longford", "Holbrooks", "Foleshill",
    "Edgwick", "Godiva", "Leofric", "Gosford", "Earlsdon", "Styvechale", "Finham", "Shakespeare",
    "Milton", "Dickens", "Tennyson", "Wordsworth", "Chaucer", "Kipling", "Byron", "Keats",
    "Shelley", "Elgar", "Purcell", "Handel", "Brunel", "Whittle", "Telford", "Stephenson", "Nelson",
    "Churchill", "Victoria", "Albert", "Alexandra", "Windsor", "Warwick", "Stratford", "Rugby",
    "Nuneaton", "Bedworth", "Hinckley", "Lutterworth", "Oxford", "Cambridge", "Meriden",
    "Berkswell", "Balsall", "Fillongley", "Corley", "Brinklow", "Wolston", "Ryton", "Stoneleigh",
    "Leicester", "Hereford", "Worcester", "Gloucester", "Chester", "Lincoln", "York", "Durham",
    "Carlisle", "Exeter", "Salisbury", "Winchester", "Coniston", "Windermere", "Derwent",
    "Ullswater", "Grasmere", "Malvern", "Cotswold", "Mendip", "Quantock", "Pennine", "Chiltern",
    "Cheviot", "Kingfisher", "Heron", "Swallow", "Wren", "Robin", "Lark", "Thrush", "Falcon",
    "Merlin", "Kestrel", "Orchard", "Meadow", "Brook", "Mill", "Church", "School", "Station",
    "Park", "Manor", "Priory", "Abbey", "Castle", "Bridge", "Spring", "Vicarage", "Grange",
    "Highfield", "Queens", "Kings", "Princess",
];

/// Street types with the highest house number used on them.
pub(crate) const STREET_TYPES: &[(&str, u16)] = &[
    ("Road", 220),
    ("Street", 160),
    ("Avenue", 180),
    ("Close", 36),
    ("Grove", 48),
    ("Drive", 120),
    ("Crescent", 90),
    ("Way", 110),
    ("Lane", 140),
    ("Gardens", 40),
    ("Court", 30),
];

/// Postcode sectors in use for each Coventry district (index 1 = CV1).
pub(crate) const SECTORS: &[&[u8]] = &[
    &[],
    &[1, 2, 3, 4, 5],
    &[1, 2, 3, 4, 5],
    &[1, 2, 3, 4, 5, 6],
    &[7, 8, 9],
    &[6, 7, 8, 9],
    &[1, 2, 3, 4, 5, 6, 7],
    &[7, 8, 9],
];

/// Letters allowed in the unit part of a UK postcode (no C, I, K, M, O, V).
pub(crate) const UNIT_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

/// A list of names with Zipf-like cumulative weights.
pub(crate) struct Weighted {
    items: &'static [&'static str],
    cumulative: Vec<u32>,
}

impl Weighted {
    /// Weights items by rank: `1_000_000 / (rank + 10)`.
    pub(crate) fn new(items: &'static [&'static str]) -> Self {
        let mut total = 0u32;
        let cumulative = (0..items.len())
            .map(|rank| {
                let rank = u32::try_from(rank).unwrap_or(u32::MAX - 10);
                total = total.saturating_add(1_000_000 / (rank + 10));
                total
            })
            .collect();
        Weighted { items, cumulative }
    }

    /// A name drawn by weight ("" for an empty list).
    pub(crate) fn sample(&self, rng: &mut Rand) -> &'static str {
        let total = self.cumulative.last().copied().unwrap_or(0);
        let r = rng.below(total);
        let i = self.cumulative.partition_point(|&c| c <= r);
        self.items.get(i).copied().unwrap_or("")
    }
}

/// Weighted lists for every origin, built once per generation.
pub(crate) struct NameTables {
    /// Per origin: [male older, male younger, female older, female younger, surnames].
    lists: Vec<[Weighted; 5]>,
    origin_cumulative: Vec<u32>,
}

impl NameTables {
    /// Builds the weighted tables from the embedded lists.
    pub(crate) fn new() -> Self {
        let lists = ORIGINS
            .iter()
            .map(|o| {
                [
                    Weighted::new(o.male_older),
                    Weighted::new(o.male_younger),
                    Weighted::new(o.female_older),
                    Weighted::new(o.female_younger),
                    Weighted::new(o.surnames),
                ]
            })
            .collect();
        let mut total = 0;
        let origin_cumulative = ORIGINS
            .iter()
            .map(|o| {
                total += o.weight;
                total
            })
            .collect();
        NameTables {
            lists,
            origin_cumulative,
        }
    }

    /// An origin index drawn by the household shares.
    pub(crate) fn origin(&self, rng: &mut Rand) -> usize {
        let total = self.origin_cumulative.last().copied().unwrap_or(0);
        let r = rng.below(total);
        self.origin_cumulative.partition_point(|&c| c <= r)
    }

    /// A first name for someone of `origin`, sex and birth year.
    pub(crate) fn first_name(
        &self,
        rng: &mut Rand,
        origin: usize,
        female: bool,
        born: i32,
    ) -> &'static str {
        let slot = usize::from(female) * 2 + usize::from(born >= 2000);
        self.lists
            .get(origin)
            .or_else(|| self.lists.first())
            .and_then(|l| l.get(slot))
            .map_or("", |w| w.sample(rng))
    }

    /// A surname (masculine form) for `origin`.
    pub(crate) fn surname(&self, rng: &mut Rand, origin: usize) -> &'static str {
        self.lists
            .get(origin)
            .or_else(|| self.lists.first())
            .map_or("", |l| l[4].sample(rng))
    }
}

/// The feminine form of a surname for languages that have one (Polish
/// -ski/-ska, Czech -ý/-á and -ová, Lithuanian -ienė, Latvian, Bulgarian and
/// Russian -ov/-ova); other surnames are returned unchanged.
pub(crate) fn feminine_surname(surname: &str) -> String {
    const EXPLICIT: &[(&str, &str)] = &[
        ("Dvořák", "Dvořáková"),
        ("Novák", "Nováková"),
        ("Svoboda", "Svobodová"),
        ("Kazlauskas", "Kazlauskienė"),
        ("Jankauskas", "Jankauskienė"),
        ("Petrauskas", "Petrauskienė"),
        ("Ozols", "Ozola"),
        ("Bērziņš", "Bērziņa"),
    ];
    if let Some((_, f)) = EXPLICIT.iter().find(|(m, _)| *m == surname) {
        return (*f).to_string();
    }
    if let Some(stem) = surname.strip_suffix("ski") {
        return format!("{stem}ska");
    }
    if let Some(stem) = surname.strip_suffix("cki") {
        return format!("{stem}cka");
    }
    if let Some(stem) = surname.strip_suffix('ý') {
        return format!("{stem}á");
    }
    if surname.ends_with("ov") || surname.ends_with("ev") {
        return format!("{surname}a");
    }
    surname.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn distinct(select: impl Fn(&Origin) -> Vec<&'static str>) -> BTreeSet<&'static str> {
        ORIGINS.iter().flat_map(select).collect()
    }

    #[test]
    fn lists_are_large_and_diverse() {
        let male = distinct(|o| [o.male_older, o.male_younger].concat());
        let female = distinct(|o| [o.female_older, o.female_younger].concat());
        let surnames = distinct(|o| o.surnames.to_vec());
        assert!(male.len() >= 290, "male first names: {}", male.len());
        assert!(female.len() >= 290, "female first names: {}", female.len());
        assert!(surnames.len() >= 480, "surnames: {}", surnames.len());
        for name in [
            "Zoë",
            "Chloé",
            "Renée",
            "Łukasz",
            "Małgorzata",
            "Ayşe",
            "José",
        ] {
            assert!(male.contains(name) || female.contains(name), "{name}");
        }
        for name in [
            "Dvořák",
            "Müller",
            "Ó Briain",
            "O'Neil",
            "Smith-Jones",
            "Patel",
        ] {
            assert!(surnames.contains(name), "{name}");
        }
        assert!(NICKNAMES.len() >= 80);
    }

    #[test]
    fn no_duplicates_within_a_list() {
        for o in ORIGINS {
            for list in [
                o.male_older,
                o.male_younger,
                o.female_older,
                o.female_younger,
                o.surnames,
            ] {
                let set: BTreeSet<_> = list.iter().collect();
                assert_eq!(set.len(), list.len(), "duplicate in {}", o.label);
                assert!(list.iter().all(|n| !n.is_empty() && n.trim() == *n));
            }
        }
        let streets: BTreeSet<_> = MAIN_STREETS.iter().map(|s| s.0).collect();
        assert_eq!(streets.len(), MAIN_STREETS.len());
        let stems: BTreeSet<_> = STREET_STEMS.iter().collect();
        assert_eq!(stems.len(), STREET_STEMS.len());
        assert!(MAIN_STREETS
            .iter()
            .all(|(_, d)| SECTORS.get(usize::from(*d)).is_some_and(|s| !s.is_empty())));
    }

    #[test]
    fn weighted_sampling_is_zipf_like() {
        let w = Weighted::new(SURNAMES_BRITISH);
        let mut rng = Rand::new(3, 0);
        let mut first = 0;
        let mut last = 0;
        for _ in 0..20_000 {
            let s = w.sample(&mut rng);
            assert!(!s.is_empty());
            if s == "Smith" {
                first += 1;
            }
            if s == "Mac Giolla" {
                last += 1;
            }
        }
        assert!(first > 5 * last.max(1), "{first} vs {last}");
        let empty = Weighted::new(&[]);
        assert_eq!(empty.sample(&mut rng), "");
    }

    #[test]
    fn feminine_forms() {
        assert_eq!(feminine_surname("Kowalski"), "Kowalska");
        assert_eq!(feminine_surname("Nowicki"), "Nowicka");
        assert_eq!(feminine_surname("Novotný"), "Novotná");
        assert_eq!(feminine_surname("Dvořák"), "Dvořáková");
        assert_eq!(feminine_surname("Ivanov"), "Ivanova");
        assert_eq!(feminine_surname("Nowak"), "Nowak");
    }
}
