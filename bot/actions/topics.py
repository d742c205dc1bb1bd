"""Human titles and example questions for each thing the assistant can answer.

Used by the "did you mean ...?" buttons: a button shows the title and sends the question,
so a click goes through the same understanding as typed text.
"""
from __future__ import annotations

from typing import Dict, NamedTuple, Optional, Text


class Topic(NamedTuple):
    """A button for one answerable topic."""

    title: Text
    question: Text


TOPICS: Dict[Text, Topic] = {
    "faq/what_is_ketamine": Topic("What ketamine is", "What is ketamine?"),
    "faq/how_it_works": Topic("How infusion therapy works", "How does ketamine infusion therapy work?"),
    "faq/preparation": Topic("Preparing for a session", "How do I prepare for my first infusion?"),
    "faq/administration": Topic("How it is given", "How is ketamine given?"),
    "faq/dosage": Topic("Dose range", "What dose of ketamine is used?"),
    "faq/session_length": Topic("Length of a session", "How long does one infusion session take?"),
    "faq/frequency": Topic("How many sessions", "How often do you need ketamine infusions?"),
    "faq/onset": Topic("How soon it works", "How soon does ketamine start working?"),
    "faq/relief_duration": Topic("How long relief lasts", "How long does the relief from ketamine last?"),
    "faq/long_term": Topic("Long-term benefits", "Does ketamine have long-term benefits?"),
    "faq/benefits": Topic("Benefits", "What are the benefits of ketamine infusion therapy?"),
    "faq/suicidal_ideation": Topic("Suicidal thoughts", "Can ketamine help with suicidal thoughts?"),
    "faq/adjunct_treatment": Topic("Use with other treatments", "Can ketamine be used alongside antidepressants or therapy?"),
    "faq/addiction": Topic("Addiction and withdrawal", "Is ketamine addictive?"),
    "faq/safety": Topic("Safety and monitoring", "Is ketamine infusion therapy safe?"),
    "faq/candidacy": Topic("Who is a good candidate", "Who is a good candidate for ketamine therapy?"),
    "faq/side_effects": Topic("Side effects", "What are the side effects of ketamine infusions?"),
    "faq/side_effect_duration": Topic("How long side effects last", "How long do the side effects last?"),
    "faq/research": Topic("Research and trials", "What does the research say about ketamine?"),
    "faq/provider": Topic("Who gives the infusions", "Who gives the infusions?"),
    "faq/cost": Topic("Cost", "How much does ketamine treatment cost?"),
    "faq/insurance": Topic("Insurance", "Does insurance cover ketamine infusions?"),
    "faq/location_hours": Topic("Address and hours", "Where is the clinic and when is it open?"),
    "faq/fda_status": Topic("FDA approval", "Is ketamine FDA approved?"),
    "faq/driving": Topic("Driving afterwards", "Can I drive after an infusion?"),
    "faq/pregnancy": Topic("Pregnancy", "Can I have ketamine while pregnant?"),
    "faq/interactions": Topic("Drug interactions", "Does ketamine interact with other drugs?"),
    "faq/experience": Topic("What an infusion feels like", "What does an infusion feel like?"),
    "faq/hallucinations": Topic("Hallucinations and dissociation", "Will I hallucinate during an infusion?"),
    "faq/eating_before": Topic("Eating beforehand", "Can I eat before an infusion?"),
    "faq/alcohol": Topic("Alcohol and cannabis", "Can I drink alcohol around my treatment?"),
    "faq/age_limits": Topic("Age limits", "Is there an age limit for treatment?"),
    "faq/referral": Topic("Referrals", "Do I need a referral?"),
    "faq/contraindications": Topic("Who shouldn't have it", "Who should not have ketamine infusions?"),
    "faq/memory_effects": Topic("Memory and thinking", "Does ketamine affect memory?"),
    "faq/bladder": Topic("Bladder problems", "Can ketamine cause bladder problems?"),
    "faq/drug_test": Topic("Drug tests", "Will ketamine show up on a drug test?"),
    "faq/esketamine": Topic("Spravato (esketamine)", "How does Spravato compare with infusions?"),
    "faq/ketamine_therapy": Topic("Ketamine-assisted therapy", "Do you offer ketamine-assisted psychotherapy?"),
    "faq/at_home": Topic("At-home ketamine", "Do you offer at-home ketamine?"),
    "faq/companion": Topic("Bringing a companion", "Can someone stay with me during the infusion?"),
    "faq/clinic_background": Topic("About the clinic", "How long has the clinic been open?"),
    "faq/success_rate": Topic("Success rates", "What is the success rate?"),
    "faq/nausea": Topic("Nausea", "Does ketamine cause nausea?"),
    "faq/other_side_effects": Topic("Other side effects", "Does ketamine cause weight gain?"),
    "faq/blood_pressure": Topic("Blood pressure and heart rate", "Does ketamine raise blood pressure?"),
    "faq/what_to_bring": Topic("What to bring", "What should I wear or bring?"),
    "faq/booking": Topic("Booking and availability", "How does booking work?"),
    "faq/mental_health_general": Topic("General mental-health questions", "What causes depression?"),
    "ask_condition": Topic("Conditions it treats", "What conditions does ketamine treat?"),
    "request_callback": Topic("Book a consultation", "/request_callback"),
    "ask_human": Topic("Talk to a person", "/ask_human"),
}


def topic_for(key: Text) -> Optional[Topic]:
    """The button for an intent or `retrieval/response` key, if it has one."""
    return TOPICS.get(key)
