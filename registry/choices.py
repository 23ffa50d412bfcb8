"""Choices of the case report form. Codes are short, stable and never renumbered."""

from django.db import models


class Role(models.TextChoices):
    DATA_MANAGER = "data_manager", "Data manager"
    MONITOR = "monitor", "Monitor"
    SITE_INVESTIGATOR = "site_investigator", "Site investigator"
    REGISTRY_INVESTIGATOR = "registry_investigator", "Registry investigator"
    REGISTRY_ADMIN = "registry_admin", "Registry admin"


class RecordStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    COMPLETE = "complete", "Complete"
    VERIFIED = "verified", "Verified"
    LOCKED = "locked", "Locked"


class Sex(models.TextChoices):
    MALE = "male", "Male"
    FEMALE = "female", "Female"


class YesNoUnknown(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    UNKNOWN = "unknown", "Unknown"


class DiagnosisBasis(models.TextChoices):
    HISTOLOGY = "histology", "Histology"
    IMAGING = "imaging", "Imaging (+ AFP ≥ 400 ng/mL)"


class HistologySubtype(models.TextChoices):
    CONVENTIONAL = "conventional", "Conventional HCC"
    FIBROLAMELLAR = "fibrolamellar", "Fibrolamellar"
    SARCOMATOID = "sarcomatoid", "Sarcomatoid"
    COMBINED = "combined_hcc_cca", "Combined HCC-CCA"
    OTHER = "other", "Other"
    NOT_DONE = "not_done", "Not done"


class Ascites(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild (controlled)"
    MODERATE_SEVERE = "moderate_severe", "Moderate-severe (refractory)"


class Encephalopathy(models.TextChoices):
    NONE = "none", "None"
    GRADE_1_2 = "grade_1_2", "Grade 1-2"
    GRADE_3_4 = "grade_3_4", "Grade 3-4"


class ImagingModality(models.TextChoices):
    CT = "ct", "Contrast CT"
    MRI = "mri", "Contrast MRI"


class Distribution(models.TextChoices):
    UNILOBAR = "unilobar", "Unilobar"
    BILOBAR = "bilobar", "Bilobar"


class MacrovascularInvasion(models.TextChoices):
    NONE = "none", "None"
    VP1 = "vp1", "PVTT Vp1"
    VP2 = "vp2", "PVTT Vp2"
    VP3 = "vp3", "PVTT Vp3"
    VP4 = "vp4", "PVTT Vp4"
    HEPATIC_VEIN = "hepatic_vein", "Hepatic vein"


class BclcStage(models.TextChoices):
    ZERO = "0", "0 (very early)"
    A = "A", "A (early)"
    B = "B", "B (intermediate)"
    C = "C", "C (advanced)"
    D = "D", "D (terminal)"


class ChildPughClass(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class TreatmentIntent(models.TextChoices):
    INITIAL = "initial", "Initial"
    AFTER_REFRACTORINESS = "after_refractoriness", "After TACE refractoriness"


class TaceTechnique(models.TextChoices):
    CONVENTIONAL = "ctace", "Conventional cTACE"
    DEB = "deb_tace", "DEB-TACE"
    MODIFIED = "mtace", "Modified / superselective mTACE"


class ChemoAgent(models.TextChoices):
    EPIRUBICIN = "epirubicin", "Epirubicin"
    DOXORUBICIN = "doxorubicin", "Doxorubicin"
    PIRARUBICIN = "pirarubicin", "Pirarubicin"
    OTHER = "other", "Other"


class Selectivity(models.TextChoices):
    SUPERSELECTIVE = "superselective", "Superselective"
    SEGMENTAL = "segmental", "Segmental"
    LOBAR = "lobar", "Lobar"


class EmbolizationEndpoint(models.TextChoices):
    STASIS = "stasis", "Stasis"
    NEAR_STASIS = "near_stasis", "Near-stasis"
    INCOMPLETE = "incomplete", "Incomplete"


class HaicRegimen(models.TextChoices):
    FOLFOX = "folfox", "FOLFOX"
    FU_CISPLATIN = "fu_cisplatin", "5-FU + cisplatin"
    OTHER = "other", "Other"


class RadiotherapyTechnique(models.TextChoices):
    IMRT = "imrt", "IMRT"
    SBRT = "sbrt", "SBRT"
    OTHER = "other", "Other"


class LocalProcedureType(models.TextChoices):
    ABLATION = "ablation", "Ablation"
    RESECTION = "resection", "Resection"
    TARE = "tare", "TARE"


class SystemicAgent(models.TextChoices):
    LENVATINIB = "lenvatinib", "Lenvatinib"
    SORAFENIB = "sorafenib", "Sorafenib"
    DONAFENIB = "donafenib", "Donafenib"
    APATINIB = "apatinib", "Apatinib"
    REGORAFENIB = "regorafenib", "Regorafenib"
    CAMRELIZUMAB = "camrelizumab", "Camrelizumab"
    TISLELIZUMAB = "tislelizumab", "Tislelizumab"
    SINTILIMAB = "sintilimab", "Sintilimab"
    ATEZOLIZUMAB = "atezolizumab", "Atezolizumab"
    BEVACIZUMAB = "bevacizumab", "Bevacizumab"
    DURVALUMAB = "durvalumab", "Durvalumab"
    TREMELIMUMAB = "tremelimumab", "Tremelimumab"
    PEMBROLIZUMAB = "pembrolizumab", "Pembrolizumab"
    NIVOLUMAB = "nivolumab", "Nivolumab"
    OTHER = "other", "Other"


class DrugClass(models.TextChoices):
    TKI = "tki", "Tyrosine-kinase inhibitor"
    PD1 = "pd1", "PD-1 antibody"
    PDL1 = "pdl1", "PD-L1 antibody"
    CTLA4 = "ctla4", "CTLA-4 antibody"
    ANTI_VEGF = "anti_vegf", "Anti-VEGF antibody"


class DoseUnit(models.TextChoices):
    MG = "mg", "mg"
    MG_PER_KG = "mg_per_kg", "mg/kg"
    MG_PER_M2 = "mg_per_m2", "mg/m²"


class StopReason(models.TextChoices):
    PROGRESSION = "progression", "Progression"
    TOXICITY = "toxicity", "Toxicity"
    PATIENT_CHOICE = "patient_choice", "Patient choice"
    DEATH = "death", "Death"
    COMPLETED = "completed", "Completed"
    ONGOING = "ongoing", "Ongoing"


class ResponseCriteria(models.TextChoices):
    MRECIST = "mrecist", "mRECIST"
    RECIST11 = "recist11", "RECIST 1.1"


class Response(models.TextChoices):
    CR = "CR", "Complete response"
    PR = "PR", "Partial response"
    SD = "SD", "Stable disease"
    PD = "PD", "Progressive disease"
    NE = "NE", "Not evaluable"


class NewLesionSite(models.TextChoices):
    INTRAHEPATIC = "intrahepatic", "Intrahepatic"
    EXTRAHEPATIC = "extrahepatic", "Extrahepatic"
    BOTH = "both", "Both"


class Reviewer(models.TextChoices):
    BLINDED_INDEPENDENT = "blinded_independent", "Blinded independent review"
    SITE = "site", "Site radiologist"


class LesionOrgan(models.TextChoices):
    LIVER = "liver", "Liver"
    LUNG = "lung", "Lung"
    LYMPH_NODE = "lymph_node", "Lymph node"
    BONE = "bone", "Bone"
    ADRENAL = "adrenal", "Adrenal"
    PERITONEUM = "peritoneum", "Peritoneum"
    OTHER = "other", "Other"


class AeAttribution(models.TextChoices):
    LOCAL = "local", "Local therapy"
    SYSTEMIC = "systemic", "Systemic therapy"
    BOTH = "both", "Both"
    UNRELATED = "unrelated", "Unrelated"


class Relatedness(models.TextChoices):
    UNRELATED = "unrelated", "Unrelated"
    UNLIKELY = "unlikely", "Unlikely"
    POSSIBLE = "possible", "Possible"
    PROBABLE = "probable", "Probable"
    DEFINITE = "definite", "Definite"


class AeAction(models.TextChoices):
    NONE = "none", "None"
    DOSE_REDUCED = "dose_reduced", "Dose reduced"
    INTERRUPTED = "interrupted", "Interrupted"
    DISCONTINUED = "discontinued", "Discontinued"


class AeOutcome(models.TextChoices):
    RESOLVED = "resolved", "Resolved"
    RESOLVING = "resolving", "Resolving"
    ONGOING = "ongoing", "Ongoing"
    FATAL = "fatal", "Fatal"


class VitalStatus(models.TextChoices):
    ALIVE = "alive", "Alive"
    DEAD = "dead", "Dead"


class DeathCause(models.TextChoices):
    TUMOUR_PROGRESSION = "tumour_progression", "Tumour progression"
    LIVER_FAILURE = "liver_failure", "Liver failure"
    TREATMENT_RELATED = "treatment_related", "Treatment-related"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class ProgressionType(models.TextChoices):
    INTRAHEPATIC = "intrahepatic", "Intrahepatic"
    EXTRAHEPATIC = "new_extrahepatic", "New extrahepatic"
    VASCULAR = "vascular", "Vascular"


class FlagSeverity(models.TextChoices):
    WARNING = "warning", "Data-quality warning"
    INCONSISTENCY = "inconsistency", "Cross-form inconsistency"
    ELIGIBILITY = "eligibility", "Outside seed eligibility"


class FlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class RefractorinessRuleSet(models.TextChoices):
    JSH_LCSGJ_2014 = "jsh_lcsgj_2014", "JSH-LCSGJ 2014"
    SEED002 = "seed002_operational", "Seed 002 operational definition"
    AFTER_N_CYCLES = "progression_after_n_cycles", "Progression after N TACE cycles"
