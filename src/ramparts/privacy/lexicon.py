"""Word lists for the context-based recognizers (names, addresses, column headers).

The first names are common given names across English-, Spanish-, Portuguese-,
French-, German-, Italian-, Dutch-, Nordic-, Slavic-, Arabic-, Turkish-, Persian-,
Indian-, Chinese-, Japanese-, Korean-, Vietnamese- and African-language countries,
written in Latin script. A name is recognised by a listed first name followed by a
capitalised word, by an honorific, or by a column or label that says "name"; the list
only has to catch the first of those cases.
"""

from __future__ import annotations

__all__ = ["FIRST_NAMES", "NAME_STOPWORDS", "STREET_SUFFIXES", "US_STATES"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FIRST_NAMES: frozenset[str] = _words(
    """
    aaron abdul abdullah abena abigail adaeze adam aditi adrian agnieszka ahmad ahmed
    aiden aisha akira alan alba albert alejandra alejandro aleksandra alessandro alex
    alexander alexandra alexis alfie ali alice alicia alina alisha alison allison alvaro
    ama amaka amal amanda amara amelia amina amir amit amy ana ananya anastasia andre
    andrea andreas andrew andrzej angel angela angelica anh anil anita anja anjali ankit
    ann anna anne annika anthony antoine antonio anu anya aoi aoife arash arjun arnav
    arthur arturo arun aryan asha ashley astrid aurora austin ava avery avi ayaan ayesha
    ayodele ayse bao barbara beatriz ben benjamin bernard beth betty bianca bilal bjorn
    blake bogdan boris brandon brenda brian brittany bruno bryan burak caleb callum
    cameron camila camille carl carla carlos carmen carol caroline carolyn carter
    catalina catherine cecilia charles charlie charlotte chen cheng chiamaka chiara
    chidi chinedu chloe chloé chris christian christina christine christopher cian ciara
    claire clara claudia colin connor cristina cynthia daiki daisy dalia damian dan
    daniel daniela danielle darius dariush david dawid dawn dean deborah deepak denise
    deniz dennis derek diana diego dieter dimitri divya dmitri dominic donald donna
    dorothy douglas duc dylan ebony eduardo edward eilidh eitan elena eli elias elif
    elijah elisa elizabeth ella ellie emeka emil emilia emily emir emma emmanuel emre
    enrique eric erik erin esther ethan eugene eva evelyn ewa ewan fabian farah farhad
    farid fatima fatma felipe felix femi fernanda fernando filip finn fiona florian
    francesca francesco francisco frank freja freya gabriel gabriela gabrielle gareth
    gary gaurav gemma george georgia gerald giorgio giovanni giulia gloria gonzalo grace
    graham greta gustavo hakan hamza hana hannah hans hao harper harriet harry haruto
    harvey hassan heather hector heidi heike helen helena henrik henry hina hiroshi
    hoang hugo hui huong hussein hyun ian ibrahim ida ignacio igor ikechukwu ilya imani
    imran ines ingrid irene isaac isabel isabella isabelle ishaan isla ismail ivan jack
    jacob jacqueline jake jakub james jamie jan jana jane janet janice jasmine jason
    javier jay jean jeffrey jennifer jeremy jerry jessica jesus ji jia jiang jie jimena
    jin jisoo jiwoo joan joanna joao joe joel johan johanna john jonas jonathan jordan
    jorge jose joseph joshua joyce juan judith julia julian julie julio jun jurgen
    justin kai kamal karan karen karim karima karl katarzyna kate katherine kathleen
    kathryn katie kavya keiko keith kelly kemal kenji kenneth kenta kevin khalid kim
    kimberly kiran klaus kofi kojo krzysztof kunal kwabena kwame kyle laila lakshmi lan
    lara larry lars laura lauren layla leah lei leila lena leo leon leonardo leyla li
    liam lily lin linda ling linh linnea lisa liu logan lorenzo louis louise lucas lucia
    luciana lucy luis luka lukas luke madison magdalena magnus mahmoud mai mairi maja
    malik manish manuel marc marco marcus marek margaret maria mariam mariana marie
    marina mario mark marta martin mary maryam mason mateo matteo matthew matthias maya
    meera megan mehmet mei melissa merve mia michael michelle miguel mikhail mila milan
    min mina ming minh minjun mohamed mohammad mohammed monica mustafa nadia nam nancy
    naomi natalia natalie natasha nathan navid neha ngozi nia niamh nicholas nicola
    nicolas nicole nikhil nikita nils nina nisha noa noah noor nora nour oisin olga
    oliver olivia olumide omar oscar owen ozan pablo paloma paolo parisa patricia
    patrick paul paula pavel pedro peter philip pierre ping piotr pooja prakash priya
    rachel rafael rahul raj rajesh ralph ramon rania raquel ravi raymond rebecca ren
    reza ricardo richard riku riley rita robert roberto robin rodrigo rohan roman ronald
    rosa rose ruby ruth ryan sakura salma samantha samir samuel sandra sanjay santiago
    sara sarah scott sean sebastian selin seojun seoyeon sergei sergio shanice sharon
    sheila shirin shiv shreya sigrid simon siobhan sipho sita sofia sophia sophie sota
    stefan stefanie stella stephanie stephen steven sunil suresh susan sven svetlana
    takumi tamar tara tariq taylor teresa thandiwe thanh thiago thomas tiago timothy
    tobias tomas tomasz tony trang tuan tunde tyler umar ursula uwe valentina valeria
    vanessa victor victoria vijay vikram vincent virginia vivek walter wang wei wen
    william wojciech wolfgang xavier xiao ximena xin yael yan yang yara yasmin yaw yosef
    youssef yu yui yuki yuna yusuf yuto zaid zainab zanele zara zeynep zhang zoe zofia
    """
)
"""Lower-case given names."""

NAME_STOPWORDS: frozenset[str] = _words(
    """
    street road avenue lane drive court way place the and for with from university
    college hospital bank group inc ltd llc plc limited corporation company service
    services team street api data model server client user admin test
    """
)
"""Capitalised words that follow a first name without making a person's name."""

STREET_SUFFIXES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    "Terrace|Parkway|Pkwy|Circle|Cir|Close|Crescent|Gardens|Grove|Hill|Mews|Park|Row|"
    "Square|Sq|Walk|Highway|Hwy"
)
"""Street-type words of US and UK addresses, as a regex alternation."""

US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|"
    "NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR"
)
"""US state and territory codes, as a regex alternation."""
