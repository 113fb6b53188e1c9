"""A believable Russian sales department for demos and benchmarks.

``DemoGenerator`` makes plain field values (deterministic for a seed): companies with valid requisites, their
people in an org structure, bank accounts at real banks. ``load_demo_data`` writes them through the services
(``python manage.py demo_data``); ``bench.run`` turns the same values into COPY rows for 100,000 companies.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Model

from kurator.accounts.models import Role, User
from kurator.companies import services
from kurator.companies.models import (
    ApplicationSphere,
    BankAccount,
    Company,
    CompanyStatus,
    Contact,
    ContactSource,
    DecisionRole,
    DeliveryMethod,
    LegalForm,
    ProductCategory,
    SalesTechnology,
)
from kurator.core.requisites import generate_inn, generate_kpp, generate_ogrn, generate_settlement_account

DEFAULT_SEED = 20261127

# --------------------------------------------------------------------------- users


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    last_name: str
    first_name: str
    patronymic: str
    password: str

    @property
    def full_name(self) -> str:
        return f"{self.last_name} {self.first_name} {self.patronymic}"


# Deterministic passwords on purpose: this is demo data, and `make run` prints them on every start.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("manager1", Role.MANAGER, "Петров", "Алексей", "Викторович", "demo-manager-1"),
    DemoUser("manager2", Role.MANAGER, "Смирнова", "Ольга", "Николаевна", "demo-manager-2"),
    DemoUser("manager3", Role.MANAGER, "Кузнецов", "Дмитрий", "Андреевич", "demo-manager-3"),
    DemoUser("senior", Role.SENIOR_MANAGER, "Васильева", "Елена", "Игоревна", "demo-senior-1"),
    DemoUser("head", Role.HEAD_OF_SALES, "Морозов", "Андрей", "Павлович", "demo-head-1"),
    DemoUser("finance", Role.FINANCE, "Новикова", "Татьяна", "Михайловна", "demo-finance-1"),
    DemoUser("admin", Role.ADMIN, "Соколов", "Михаил", "Олегович", "demo-admin-1"),
)


def ensure_demo_users() -> list[tuple[User, DemoUser]]:
    """Create the demo users that are missing; existing ones (and their passwords) are left alone."""
    result = []
    for demo in DEMO_USERS:
        user = User.objects.filter(username=demo.username).first()
        if user is None:
            user = User.objects.create_user(
                username=demo.username,
                password=demo.password,
                role=demo.role,
                first_name=demo.first_name,
                last_name=demo.last_name,
                patronymic=demo.patronymic,
                email=f"{demo.username}@kurator.example",
                # The administrator also gets into Django's admin site.
                is_staff=demo.role == Role.ADMIN,
            )
        result.append((user, demo))
    return result


def existing_demo_users() -> list[tuple[User, DemoUser]]:
    users = {u.username: u for u in User.objects.filter(username__in=[d.username for d in DEMO_USERS])}
    return [(users[d.username], d) for d in DEMO_USERS if d.username in users]


# --------------------------------------------------------------------------- reference data


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _triples(text: str) -> tuple[tuple[str, str, str], ...]:
    return tuple((a, b, c) for a, b, c in (word.split("/") for word in text.split()))


# name, postcode prefix, phone area code, streets typical for the city (plus the common ones below)
CITIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "Москва",
        "12",
        "495",
        (
            "ул. Тверская",
            "Ленинградский пр-т",
            "ул. Профсоюзная",
            "Варшавское ш.",
            "ул. Новый Арбат",
            "Каширское ш.",
            "ул. Большая Ордынка",
            "Дмитровское ш.",
        ),
    ),
    (
        "Санкт-Петербург",
        "19",
        "812",
        (
            "Невский пр-т",
            "Московский пр-т",
            "ул. Марата",
            "Лиговский пр-т",
            "наб. Обводного канала",
            "пр-т Обуховской Обороны",
        ),
    ),
    ("Новосибирск", "630", "383", ("Красный пр-т", "ул. Большевистская", "ул. Станционная")),
    ("Екатеринбург", "620", "343", ("ул. Малышева", "пр-т Ленина", "ул. Фронтовых Бригад")),
    ("Казань", "420", "843", ("ул. Баумана", "пр-т Победы", "ул. Тэцевская")),
    ("Нижний Новгород", "603", "831", ("ул. Большая Покровская", "Московское ш.", "ул. Родионова")),
    ("Челябинск", "454", "351", ("пр-т Ленина", "ул. Труда", "Копейское ш.")),
    ("Самара", "443", "846", ("Московское ш.", "ул. Галактионовская", "ул. Средне-Садовая")),
    ("Ростов-на-Дону", "344", "863", ("ул. Большая Садовая", "пр-т Шолохова", "ул. Доватора")),
    ("Уфа", "450", "347", ("пр-т Октября", "ул. Менделеева", "ул. Российская")),
    ("Красноярск", "660", "391", ("пр-т Мира", "ул. Взлётная", "ул. 2-я Брянская")),
    ("Пермь", "614", "342", ("ул. Ленина", "Комсомольский пр-т", "ул. Героев Хасана")),
    ("Воронеж", "394", "473", ("пр-т Революции", "Ленинский пр-т", "ул. Кольцовская")),
    ("Краснодар", "350", "861", ("ул. Красная", "ул. Северная", "ул. Уральская")),
    ("Тюмень", "625", "3452", ("ул. Республики", "ул. Мельникайте", "ул. 50 лет Октября")),
    ("Омск", "644", "3812", ("ул. Ленина", "пр-т Мира", "ул. 10 лет Октября")),
    ("Иркутск", "664", "3952", ("ул. Карла Маркса", "ул. Байкальская", "ул. Трактовая")),
    ("Владивосток", "690", "423", ("ул. Светланская", "Океанский пр-т", "ул. Бородинская")),
    ("Хабаровск", "680", "4212", ("ул. Муравьёва-Амурского", "ул. Карла Маркса", "ул. Тихоокеанская")),
    ("Волгоград", "400", "8442", ("пр-т Ленина", "ул. Рабоче-Крестьянская", "ул. Землячки")),
    ("Ярославль", "150", "4852", ("ул. Свободы", "Московский пр-т", "ул. Промышленная")),
    ("Тула", "300", "4872", ("пр-т Ленина", "ул. Советская", "ул. Марата")),
    ("Калининград", "236", "4012", ("Ленинский пр-т", "ул. Театральная", "ул. Аллея Смелых")),
)
# Moscow and St Petersburg hold most of the B2B market.
CITY_WEIGHTS = (30, 12) + (3,) * (len(CITIES) - 2)
COMMON_STREETS = (
    "ул. Ленина",
    "ул. Советская",
    "ул. Мира",
    "ул. Гагарина",
    "ул. Промышленная",
    "ул. Заводская",
    "ул. Садовая",
    "ул. Октябрьская",
    "ул. Пушкина",
    "ул. Кирова",
    "ул. Строителей",
    "ул. Энтузиастов",
    "ул. Индустриальная",
    "ул. Складская",
    "ул. Железнодорожная",
    "пер. Почтовый",
)

# Mobile codes of the big operators (all their numbers are valid in the numbering plan; 930 is not fully).
MOBILE_CODES = _words(
    """
    900 901 902 903 904 905 906 908 909 910 911 912 913 914 915 916 917 918 919 920 921 922 923 924 925 926
    927 928 929 950 951 952 953 958 960 961 962 963 964 965 966 967 968 969 977 980 981 982 983 985 987 988
    989 999
    """
)

# Real banks: name, BIK, correspondent account (published by the Bank of Russia; checked in the tests).
BANKS: tuple[tuple[str, str, str], ...] = (
    ("ПАО Сбербанк", "044525225", "30101810400000000225"),
    ("Банк ВТБ (ПАО)", "044525187", "30101810700000000187"),
    ("АО «Альфа-Банк»", "044525593", "30101810200000000593"),
    ("АО «ТБанк»", "044525974", "30101810145250000974"),
    ("Банк ГПБ (АО)", "044525823", "30101810200000000823"),
    ("АО «Райффайзенбанк»", "044525700", "30101810200000000700"),
    ("ПАО «Промсвязьбанк»", "044525555", "30101810400000000555"),
    ("ООО «Банк Точка»", "044525104", "30101810745374525104"),
    ("Северо-Западный банк ПАО Сбербанк", "044030653", "30101810500000000653"),
    ("Сибирский банк ПАО Сбербанк", "045004641", "30101810500000000641"),
    ("Уральский банк ПАО Сбербанк", "046577674", "30101810500000000674"),
    ("Волго-Вятский банк ПАО Сбербанк", "042202603", "30101810900000000603"),
    ("Поволжский банк ПАО Сбербанк", "043601607", "30101810200000000607"),
    ("Юго-Западный банк ПАО Сбербанк", "046015602", "30101810600000000602"),
    ("ПАО «АК БАРС» Банк", "049205805", "30101810000000000805"),
)
BANK_WEIGHTS = (30, 14, 12, 10, 5, 4, 5, 6, 3, 2, 2, 2, 2, 2, 1)

NAME_HEADS = _words(
    """
    Техно Строй Пром Агро Энерго Авто Металл Нефте Электро Хим Транс Мед Лес Тепло Гидро Евро Урал Сиб
    Волга Нева Дон Север Спец Стан Кабель Полимер Бетон Инж Прибор Вент
    """
)
NAME_TAILS = _words(
    """
    снаб торг сервис комплект монтаж строй пром маш лит прибор систем ресурс логистик тех трейд проект
    деталь импорт инвест альянс
    """
)
NAME_WORDS = _words(
    """
    Вектор Альянс Гранит Меридиан Ромашка Горизонт Спектр Прогресс Форвард Орион Атлант Восход Импульс
    Континент Партнёр Стандарт Феникс Аврора Кристалл Магистраль Созвездие Рубин Янтарь Сапфир Каскад
    Квант Лидер Престиж Ресурс Эталон Сфера Интеграл Монолит Парус Олимп Зенит Полюс Фаворит Вертикаль
    Бриз Арсенал Медведь Сокол Берег Кедр Ладога Байкал Алтай Онега Русич
    """
)
NAME_ADDITIONS = ("Плюс", "Групп", "Трейд", "Сервис", "М", "Юг", "Север", "Центр", "Про", "Инвест", "2000")
NAME_KINDS = ("ТД", "ПКФ", "НПО", "ТК", "СК", "ПТК")
MUNICIPAL_NAMES = (
    "Водоканал",
    "Тепловые сети",
    "Горэлектросеть",
    "Городской транспорт",
    "Спецавтохозяйство",
    "Городское благоустройство",
    "Жилищник",
)

# first name / patronymic of his son / of his daughter
MALE_NAMES = _triples(
    """
    Александр/Александрович/Александровна Алексей/Алексеевич/Алексеевна Андрей/Андреевич/Андреевна
    Сергей/Сергеевич/Сергеевна Дмитрий/Дмитриевич/Дмитриевна Михаил/Михайлович/Михайловна
    Иван/Иванович/Ивановна Николай/Николаевич/Николаевна Владимир/Владимирович/Владимировна
    Евгений/Евгеньевич/Евгеньевна Игорь/Игоревич/Игоревна Олег/Олегович/Олеговна Павел/Павлович/Павловна
    Юрий/Юрьевич/Юрьевна Виктор/Викторович/Викторовна Константин/Константинович/Константиновна
    Максим/Максимович/Максимовна Артём/Артёмович/Артёмовна Роман/Романович/Романовна
    Пётр/Петрович/Петровна Василий/Васильевич/Васильевна Анатолий/Анатольевич/Анатольевна
    Геннадий/Геннадьевич/Геннадьевна Вадим/Вадимович/Вадимовна Станислав/Станиславович/Станиславовна
    Денис/Денисович/Денисовна Илья/Ильич/Ильинична Григорий/Григорьевич/Григорьевна
    """
)
FEMALE_NAMES = _words(
    """
    Елена Ольга Татьяна Наталья Ирина Светлана Марина Анна Екатерина Юлия Мария Людмила Галина Оксана
    Анастасия Виктория Надежда Валентина Ксения Дарья
    """
)
SURNAMES = _words(
    """
    Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов Волков
    Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев Макаров Никитин
    Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев Кузьмин Фролов
    Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин Виноградов Ковалёв Белов
    Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов Беляев Герасимов Богданов Осипов
    Сидоров Матвеев Титов Марков Миронов Крылов Куликов Карпов Власов Мельников Денисов Гаврилов Тихонов
    Казаков Афанасьев Данилов Савельев Тимофеев Фомин Чернов Абрамов Мартынов Ефимов Федотов Щербаков
    Назаров Калинин Исаев Чернышёв Быков Маслов Родионов Коновалов Лазарев Воронин Климов Филатов
    Пономарёв Голубев Кудрявцев Прохоров Наумов Потапов Журавлёв Овчинников Трофимов Леонов Соболев
    Ермаков Колесников Гончаров Емельянов Никифоров Грачёв Котов Гришин Ефремов Архипов Громов Кириллов
    Малышев Панов Моисеев Румянцев Акимов Кондратьев Бирюков Горбунов Анисимов Ерёмин Тихомиров Галкин
    Лукьянов Михеев Скворцов Юдин Белоусов Нестеров Симонов Прокофьев Харитонов Князев Цветков Левин
    Митрофанов Воронов Аксёнов Софронов Мальцев Логинов Горшков Савин Краснов Майоров Демидов Елисеев
    Рыбаков Сафонов Плотников Демин Хохлов Фадеев Молчанов Игнатов Литвинов Ершов Ушаков Дементьев Рябов
    Мухин Калашников Леонтьев Лобанов Кузин Корнилов Евдокимов Бородин Платонов Некрасов Балашов Бобров
    Жданов Блинов Игнатьев Коротков Муравьёв Крюков Беляков Богомолов Дроздов Лавров Зуев Петухов Ларин
    Никулин Серов Терентьев Зотов Устинов Фокин Самойлов Константинов Сахаров Шишкин Самсонов Черкасов
    Чистяков Носов Спиридонов Карасёв Авдеев Воронцов Зверев Владимиров Селезнёв Нечаев Кудряшов Седов
    Фирсов Андрианов Панин Головин Терехов Ульянов Шестаков Агеев Никонов Селиванов Баженов Гордеев
    Кожевников Пахомов Зимин Костин Широков Филимонов Ларионов Овсянников Сазонов Суворов Нефёдов
    Корнеев Трифонов Кулагин Шевчук Кравец Бондаренко Коваленко Лысенко Шевченко Ткаченко Гаврилюк
    Мельник Садыков Хабибуллин Гарипов Валиев Ахметов Сафин Зарипов Исмаилов Алиев
    """
)

DIRECTOR = ("Генеральный директор", "Руководство")
# position, department, decision role
DEPUTIES: tuple[tuple[str, str, str], ...] = (
    ("Коммерческий директор", "Коммерческая служба", DecisionRole.INFLUENCER),
    ("Технический директор", "Технический отдел", DecisionRole.INFLUENCER),
    ("Главный инженер", "Технический отдел", DecisionRole.INFLUENCER),
    ("Финансовый директор", "Финансовая служба", DecisionRole.INFLUENCER),
    ("Заместитель генерального директора", "Руководство", DecisionRole.DECISION_MAKER),
    ("Директор по производству", "Производство", DecisionRole.INFLUENCER),
    ("Главный бухгалтер", "Бухгалтерия", DecisionRole.OTHER),
)
SPECIALISTS: dict[str, tuple[tuple[str, str], ...]] = {
    "Коммерческая служба": (
        ("Начальник отдела снабжения", DecisionRole.INFLUENCER),
        ("Менеджер по закупкам", DecisionRole.USER),
        ("Специалист по закупкам", DecisionRole.USER),
        ("Логист", DecisionRole.OTHER),
    ),
    "Технический отдел": (
        ("Инженер-технолог", DecisionRole.USER),
        ("Ведущий инженер", DecisionRole.USER),
        ("Инженер по эксплуатации", DecisionRole.USER),
    ),
    "Финансовая служба": (("Экономист", DecisionRole.OTHER), ("Бухгалтер", DecisionRole.OTHER)),
    "Бухгалтерия": (("Бухгалтер", DecisionRole.OTHER), ("Бухгалтер по расчётам", DecisionRole.OTHER)),
    "Руководство": (
        ("Секретарь", DecisionRole.GATEKEEPER),
        ("Офис-менеджер", DecisionRole.GATEKEEPER),
        ("Помощник руководителя", DecisionRole.GATEKEEPER),
    ),
    "Производство": (("Начальник цеха", DecisionRole.USER), ("Мастер участка", DecisionRole.USER)),
}

# Weights of the seeded sources (migration 0002), by name; unknown sources weigh 5.
SOURCE_WEIGHTS = {
    "Интернет": 30,
    "Рекомендации лояльных клиентов": 20,
    "Выставки": 15,
    "Средства массовой информации": 10,
    "Слухи (сарафанное радио)": 12,
    "Периодические издания": 5,
}
FORM_WEIGHTS: tuple[tuple[str, int], ...] = (
    (LegalForm.OOO, 68),
    (LegalForm.AO, 10),
    (LegalForm.PAO, 2),
    (LegalForm.ZAO, 2),
    (LegalForm.IP, 15),
    (LegalForm.MUP, 2),
    (LegalForm.GUP, 1),
)
FULL_FORMS: dict[str, str] = {
    LegalForm.OOO: "Общество с ограниченной ответственностью",
    LegalForm.AO: "Акционерное общество",
    LegalForm.PAO: "Публичное акционерное общество",
    LegalForm.ZAO: "Закрытое акционерное общество",
    LegalForm.MUP: "Муниципальное унитарное предприятие",
    LegalForm.GUP: "Государственное унитарное предприятие",
}
STATUS_WEIGHTS = ((CompanyStatus.PROSPECT, 40), (CompanyStatus.CLIENT, 45), (CompanyStatus.FORMER, 15))

# Passport-style transliteration for e-mail boxes and domains; "'" marks a letter that is dropped.
_CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_LATIN = _words("a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch ' y ' e yu ya")
_TRANSLIT_TABLE = str.maketrans(
    {c: latin.strip("'") for c, latin in zip(_CYRILLIC, _LATIN, strict=True)} | {" ": "-"}
)
_NOT_DOMAIN_RE = re.compile(r"[^a-z0-9-]+")


def translit(text: str) -> str:
    """Latin spelling for e-mail boxes and domains: ``"Энергомонтаж"`` -> ``"energomontazh"``."""
    out = _NOT_DOMAIN_RE.sub("", text.lower().translate(_TRANSLIT_TABLE))
    return "-".join(part for part in out.split("-") if part)


def female_surname(surname: str) -> str:
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    if surname.endswith("ий"):
        return surname[:-2] + "ая"
    return surname  # Шевчук, Бондаренко: the same for both


# --------------------------------------------------------------------------- the generator


@dataclass
class Dictionaries:
    sources: list[ContactSource]
    spheres: list[ApplicationSphere]
    categories: list[ProductCategory]
    delivery: list[DeliveryMethod]
    technologies: list[SalesTechnology]

    @classmethod
    def load(cls) -> Dictionaries:
        return cls(
            sources=list(ContactSource.objects.filter(is_active=True, parent=None)),
            spheres=list(ApplicationSphere.objects.filter(is_active=True)),
            categories=list(ProductCategory.objects.filter(is_active=True)),
            delivery=list(DeliveryMethod.objects.filter(is_active=True)),
            technologies=list(SalesTechnology.objects.filter(is_active=True)),
        )


@dataclass
class PersonSpec:
    fields: dict[str, Any]
    boss: int | None  # index of the person this one reports to, in CompanySpec.people


@dataclass
class CompanySpec:
    fields: dict[str, Any]  # keyword arguments of services.company_create (without referred_by)
    people: list[PersonSpec]
    bank_accounts: list[dict[str, Any]]
    referred_by: int | None  # index of an earlier generated company (a client) that recommended this one
    age_days: int  # how long ago the company was entered
    categories: list[ProductCategory] = field(default_factory=list)


class DemoGenerator:
    """Field values for believable companies; the same seed gives the same department."""

    def __init__(
        self,
        *,
        seed: int,
        curators: Sequence[Any],
        dictionaries: Dictionaries,
        curator_weights: Sequence[int] | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.curators = list(curators)
        self.curator_weights = list(curator_weights) if curator_weights else None
        self.dictionaries = dictionaries
        self.used_requisites: set[tuple[str, str]] = set()
        self.used_domains: set[str] = set()
        self.clients: list[int] = []  # indices of generated companies with status "client"
        self.count = 0
        self._source_weights = [SOURCE_WEIGHTS.get(s.name, 5) for s in dictionaries.sources]
        self._forms = [f for f, _w in FORM_WEIGHTS]
        self._form_weights = [w for _f, w in FORM_WEIGHTS]
        self._statuses = [s for s, _w in STATUS_WEIGHTS]
        self._status_weights = [w for _s, w in STATUS_WEIGHTS]

    def reserve(self, requisites: Iterable[tuple[str, str]]) -> None:
        """Mark INN/KPP pairs already in the base, so that new companies never clash with them."""
        self.used_requisites.update(requisites)

    # -- people

    def person_name(self, *, female: bool | None = None) -> tuple[str, str, str]:
        rng = self.rng
        if female is None:
            female = rng.random() < 0.4
        surname = rng.choice(SURNAMES)
        father = rng.choice(MALE_NAMES)
        if female:
            return female_surname(surname), rng.choice(FEMALE_NAMES), father[2]
        return surname, rng.choice(MALE_NAMES)[0], father[1]

    def digits(self, count: int) -> str:
        return str(self.rng.randrange(10**count)).zfill(count)

    def mobile(self) -> str:
        return "+7" + self.rng.choice(MOBILE_CODES) + self.digits(7)

    def landline(self, code: str) -> str:
        return "+7" + code + self.digits(10 - len(code))

    def birthday(self, min_age: int, max_age: int) -> date:
        today = date(2026, 1, 1)  # a fixed "today" keeps the data the same whenever it is generated
        return today - timedelta(days=self.rng.randint(min_age * 365, max_age * 365))

    def _person(
        self,
        position: str,
        department: str,
        role: str,
        *,
        domain: str,
        boss: int | None,
        leader: bool,
        birthday_chance: float,
        name: tuple[str, str, str] | None = None,
        female: bool | None = None,
    ) -> PersonSpec:
        rng = self.rng
        last, first, middle = name or self.person_name(female=female)
        fields: dict[str, Any] = {
            "full_name": f"{last} {first} {middle}",
            "position": position,
            "department": department,
            "decision_role": role,
            "is_leader": leader,
            "phones": [self.mobile()] if rng.random() < 0.85 else [],
            "emails": [f"{translit(first)[0]}.{translit(last)}@{domain}"]
            if domain and rng.random() < 0.8
            else [],
            "birthday": self.birthday(24, 66) if rng.random() < birthday_chance else None,
        }
        return PersonSpec(fields, boss)

    def people(self, count: int, *, domain: str, owner: tuple[str, str, str] | None) -> list[PersonSpec]:
        """An org structure: the director, then deputies reporting to them, then specialists under both."""
        rng = self.rng
        if owner is not None:
            head = self._person(
                "Индивидуальный предприниматель",
                "",
                DecisionRole.DECISION_MAKER,
                domain=domain,
                boss=None,
                leader=True,
                birthday_chance=0.9,
                name=owner,
            )
        else:
            head = self._person(
                *DIRECTOR,
                DecisionRole.DECISION_MAKER,
                domain=domain,
                boss=None,
                leader=True,
                birthday_chance=0.9,
                female=rng.random() < 0.25,
            )
        people = [head]
        deputies = 0 if count <= 2 or owner is not None else min(count - 2, rng.randint(1, 2))
        departments = {DIRECTOR[1]: 0}
        for deputy in rng.sample(DEPUTIES, deputies):
            position, department, role = deputy
            departments.setdefault(department, len(people))
            people.append(
                self._person(
                    position,
                    department,
                    role,
                    domain=domain,
                    boss=0,
                    leader=rng.random() < 0.2,
                    birthday_chance=0.6,
                )
            )
        while len(people) < count:
            department = rng.choice(list(departments))
            position, role = rng.choice(SPECIALISTS[department])
            if owner is not None:
                department = ""
            people.append(
                self._person(
                    position,
                    department,
                    role,
                    domain=domain,
                    boss=departments.get(department, 0),
                    leader=rng.random() < 0.1,
                    birthday_chance=0.5,
                )
            )
        return people

    # -- companies

    def firm_name(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            name = rng.choice(NAME_HEADS) + rng.choice(NAME_TAILS)
        elif roll < 0.85:
            name = rng.choice(NAME_WORDS)
        elif roll < 0.92:
            name = f"{rng.choice(NAME_KINDS)} {rng.choice(NAME_WORDS)}"
        else:
            # Regional holdings: "Уралэнергомонтаж", "Сибпромкомплект".
            name = rng.choice(NAME_HEADS) + rng.choice(NAME_HEADS).lower() + rng.choice(NAME_TAILS)
        if rng.random() < 0.2:
            name += rng.choice(("-", " ")) + rng.choice(NAME_ADDITIONS)
        return name

    def domain_for(self, name: str, city_code: str) -> str:
        base = translit(name).replace("--", "-")[:40] or "company"
        for candidate in (base, f"{base}-{city_code}", f"{base}{self.rng.randint(1, 99)}"):
            domain = candidate + self.rng.choice((".ru", ".ru", ".ru", ".com", ".su"))
            if domain not in self.used_domains:
                self.used_domains.add(domain)
                return domain
        return f"{base}{self.count}.ru"

    def address(self, city: tuple[str, str, str, tuple[str, ...]]) -> str:
        rng = self.rng
        name, postcode, _code, streets = city
        index = postcode + self.digits(6 - len(postcode))
        street = rng.choice(streets + COMMON_STREETS) if rng.random() < 0.8 else rng.choice(COMMON_STREETS)
        house = f"д. {rng.randint(1, 180)}"
        if rng.random() < 0.3:
            house += rng.choice((f", стр. {rng.randint(1, 9)}", f", корп. {rng.randint(1, 5)}"))
        room = rng.choice((f", офис {rng.randint(1, 950)}", f", помещ. {rng.randint(1, 40)}", ""))
        return f"{index}, г. {name}, {street}, {house}{room}"

    def requisites(self, person: bool) -> tuple[str, str, str]:
        while True:
            inn = generate_inn(self.rng, "person" if person else "legal")
            kpp = "" if person else generate_kpp(self.rng, inn)
            if (inn, kpp) not in self.used_requisites:
                self.used_requisites.add((inn, kpp))
                return inn, kpp, generate_ogrn(self.rng, "person" if person else "legal")

    def founding_date(self, ogrn: str) -> date:
        # The OGRN carries the year of registration; companies older than 2002 were re-registered then.
        year = 2000 + int(ogrn[1:3])
        if year <= 2003 and self.rng.random() < 0.6:
            year = self.rng.randint(1991, 2002)
        return date(year, self.rng.randint(1, 12), self.rng.randint(1, 28))

    def company(self, *, people: int | None = None, bank_accounts: int | None = None) -> CompanySpec:
        rng = self.rng
        d = self.dictionaries
        index = self.count
        self.count += 1
        city = rng.choices(CITIES, CITY_WEIGHTS)[0]
        form = rng.choices(self._forms, self._form_weights)[0]
        owner = None
        if form == LegalForm.IP:
            owner = self.person_name()
            short = f"ИП {owner[0]} {owner[1][0]}.{owner[2][0]}."
            full = f"Индивидуальный предприниматель {owner[0]} {owner[1]} {owner[2]}"
            domain = ""
            emails = [f"{translit(owner[0])}.{translit(owner[1])[0]}@{rng.choice(('yandex.ru', 'mail.ru'))}"]
        else:
            name = rng.choice(MUNICIPAL_NAMES) if form in (LegalForm.MUP, LegalForm.GUP) else self.firm_name()
            short = f"{form} «{name}»"
            full = f"{FULL_FORMS[form]} «{name}»"
            domain = self.domain_for(name, translit(city[0])[:3])
            emails = [f"{rng.choice(('info', 'office', 'mail', 'sales'))}@{domain}"]
            if rng.random() < 0.3:
                emails.append(f"{rng.choice(('zakupki', 'snab', 'buh'))}@{domain}")
        inn, kpp, ogrn = self.requisites(person=owner is not None)
        legal_address = self.address(city)
        phones = [self.landline(city[2])]
        if rng.random() < 0.3:
            phones.append(self.mobile() if owner else self.landline(city[2]))
        status = rng.choices(self._statuses, self._status_weights)[0]
        # A prospect's dossier is still thin; clients' dossiers are mostly filled in.
        fill = 0.6 if status == CompanyStatus.PROSPECT else 0.92
        source = (
            rng.choices(d.sources, self._source_weights)[0] if d.sources and rng.random() < 0.93 else None
        )
        referred_by = None
        if source is not None and source.is_recommendation:
            if self.clients:
                referred_by = rng.choice(self.clients)
            else:
                source = next((s for s in d.sources if not s.is_recommendation), None)
        categories = (
            rng.sample(d.categories, rng.randint(1, min(4, len(d.categories))))
            if d.categories and rng.random() < fill
            else []
        )

        def maybe(items: Sequence[Any]) -> Any:
            return rng.choice(items) if items and rng.random() < fill else None

        fields: dict[str, Any] = {
            "full_name": full,
            "short_name": short,
            "legal_form": form,
            "inn": inn,
            "kpp": kpp,
            "ogrn": ogrn,
            "legal_address": legal_address,
            "actual_address": legal_address if rng.random() < 0.6 else self.address(city),
            "city": city[0],
            "phones": phones,
            "emails": emails,
            "website": f"https://{domain}" if domain and rng.random() < fill else "",
            "founded_on": self.founding_date(ogrn) if rng.random() < fill else None,
            "status": status,
            "curator": rng.choices(self.curators, self.curator_weights)[0],
            "source": source,
            "application_sphere": maybe(d.spheres),
            "delivery_method": maybe(d.delivery),
            "sales_technology": maybe(d.technologies),
        }
        if people is not None:
            count = people
        elif status == CompanyStatus.PROSPECT:
            count = rng.choices((2, 3, 4), (50, 35, 15))[0]
        else:
            count = rng.choices((2, 3, 4, 5), (20, 35, 28, 17))[0]
        accounts = bank_accounts if bank_accounts is not None else rng.choices((0, 1, 2), (5, 80, 15))[0]
        bank_rows: list[dict[str, str]] = []
        for bank_name, bik, correspondent in rng.choices(BANKS, BANK_WEIGHTS, k=accounts):
            if any(row["bik"] == bik for row in bank_rows):
                continue
            bank_rows.append(
                {
                    "bank_name": bank_name,
                    "bik": bik,
                    "correspondent_account": correspondent,
                    "settlement_account": generate_settlement_account(
                        rng, bik, "40802" if owner else "40702"
                    ),
                }
            )
        if status == CompanyStatus.CLIENT:
            self.clients.append(index)
        return CompanySpec(
            fields=fields,
            people=self.people(count, domain=domain, owner=owner),
            bank_accounts=bank_rows,
            referred_by=referred_by,
            # More recent entries than old ones, as in a growing base; about half are older than 180 days.
            age_days=int(rng.triangular(0, 720, 0)),
            categories=categories,
        )


# --------------------------------------------------------------------------- loading through the services


@dataclass
class DemoResult:
    users: list[tuple[User, DemoUser]]
    companies: int = 0
    people: int = 0
    bank_accounts: int = 0
    deals: int = 0
    activities: int = 0
    tasks: int = 0
    contracts: int = 0
    orders: int = 0
    invoices: int = 0
    payments: int = 0
    documents: int = 0


def _backdate(company: Company, days: int, hours: int) -> None:
    """Move a freshly created dossier ``days`` into the past.

    The services stamp everything "now"; a demo where every section was updated a minute ago shows neither
    stale sections (D11) nor a history that grew over months. Only timestamps move, and all of a company's
    records move by the same amount, so the order of its history is kept.
    """
    delta = timedelta(days=days, hours=hours)
    stamps = (
        "created_at",
        "updated_at",
        "general_updated_at",
        "requisites_updated_at",
        "people_updated_at",
        "profile_updated_at",
    )
    Company.objects.filter(pk=company.pk).update(**{s: F(s) - delta for s in stamps})
    related: tuple[tuple[type[Model], str], ...] = ((Contact, "company_id"), (BankAccount, "company_id"))
    for model, key in related:
        model._default_manager.filter(**{key: company.pk}).update(
            created_at=F("created_at") - delta, updated_at=F("updated_at") - delta
        )
        model.history.filter(**{key: company.pk}).update(  # type: ignore[attr-defined]
            history_date=F("history_date") - delta, created_at=F("created_at") - delta
        )
    Company.history.filter(id=company.pk).update(
        history_date=F("history_date") - delta, created_at=F("created_at") - delta
    )


def _create_company(spec: CompanySpec, created: list[Company]) -> Company:
    actor = spec.fields["curator"]
    fields = dict(spec.fields, product_categories=spec.categories)
    if spec.referred_by is not None:
        fields["referred_by"] = created[spec.referred_by]
    company = services.company_create(actor=actor, **fields)
    contacts: list[Contact] = []
    for person in spec.people:
        boss = contacts[person.boss] if person.boss is not None else None
        contacts.append(
            services.contact_create(actor=actor, company=company, reports_to=boss, **person.fields)
        )
    for account in spec.bank_accounts:
        services.bank_account_create(actor=actor, company=company, **account)
    return company


def _later_changes(rng: random.Random, companies: list[Company], head: User, curators: list[User]) -> None:
    """A little life after the data entry, so the History tab has something to tell (D11, R2)."""
    for company in rng.sample(companies, max(1, len(companies) // 12)):
        company.refresh_from_db()
        others = [c for c in curators if c.pk != company.curator_id]
        services.company_change_curator(
            actor=head,
            company=company,
            curator=rng.choice(others),
            reason=rng.choice(
                (
                    "Перераспределение клиентской базы",
                    "Менеджер ушёл в отпуск",
                    "Клиент просил сменить менеджера",
                )
            ),
        )
    prospects = [c for c in companies if c.status == CompanyStatus.PROSPECT]
    for company in rng.sample(prospects, len(prospects) // 8):
        company.refresh_from_db()
        services.company_update(
            actor=company.curator, company=company, status=CompanyStatus.CLIENT, reason="Первая отгрузка"
        )
    for company in rng.sample(companies, max(1, len(companies) // 15)):
        contact = company.contacts.order_by("id").last()
        if contact is not None and contact.reports_to_id:
            services.contact_update(
                actor=company.curator,
                contact=contact,
                phones=[*contact.phones, "+7" + rng.choice(MOBILE_CODES) + f"{rng.randrange(10**7):07d}"],
            )


def load_demo_data(
    *, companies: int = 300, seed: int = DEFAULT_SEED, progress: Callable[[int], None] | None = None
) -> DemoResult:
    """Create the demo department through the services, in one transaction (all or nothing)."""
    with transaction.atomic():
        users = ensure_demo_users()
        result = DemoResult(users=users)
        by_role: dict[str, list[User]] = {}
        for user, demo in users:
            by_role.setdefault(demo.role, []).append(user)
        # Managers curate most clients, the key-account manager fewer but bigger ones, the head a few.
        curators = by_role[Role.MANAGER] + by_role[Role.SENIOR_MANAGER] + by_role[Role.HEAD_OF_SALES]
        weights = [30] * len(by_role[Role.MANAGER]) + [15] * len(by_role[Role.SENIOR_MANAGER]) + [5]
        generator = DemoGenerator(
            seed=seed, curators=curators, curator_weights=weights, dictionaries=Dictionaries.load()
        )
        generator.reserve(Company.objects.values_list("inn", "kpp"))
        created: list[Company] = []
        for number in range(companies):
            spec = generator.company()
            company = _create_company(spec, created)
            created.append(company)
            _backdate(company, spec.age_days, generator.rng.randint(0, 23))
            result.companies += 1
            result.people += len(spec.people)
            result.bank_accounts += len(spec.bank_accounts)
            if progress is not None:
                progress(number + 1)
        if created:
            _later_changes(generator.rng, created, by_role[Role.HEAD_OF_SALES][0], curators)
            # Deals and contact history live in their own apps, which build on the companies.
            from kurator.sales.demo import load_demo_sales

            sales = load_demo_sales(rng=generator.rng, companies=created)
            result.deals, result.activities, result.tasks = sales.deals, sales.activities, sales.tasks
            from kurator.finance.demo import load_demo_finance

            finance = load_demo_finance(rng=generator.rng, companies=created)
            result.contracts, result.orders = finance.contracts, finance.orders
            result.invoices, result.payments = finance.invoices, finance.payments
            from kurator.documents.demo import load_demo_documents

            result.documents = load_demo_documents(rng=generator.rng, companies=created).documents
    return result
