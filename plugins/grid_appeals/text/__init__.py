"""Text mining of appeal free text (受理内容 / 处理意见): normalise, mask PII, segment, extract.

Modules are small and import lazily so that an Airflow task that only needs masking does not pay
for jieba's dictionary, cpca's address table or scikit-learn:

- ``normalise``       full/half width, traditional → simplified, punctuation, numerals, boilerplate
- ``pii``             masking of phones, ID cards, bank cards, 户号, names, house numbers
- ``lexicons``        business terms, synonyms, stopwords (plain files under ``lexicons/``)
- ``segmenter``       a dedicated jieba tokenizer with the business lexicon
- ``keywords``        corpus-fitted TF-IDF and TextRank
- ``address`` / ``entities``  spans of addresses, durations, counts, dates, money, meter numbers
- ``topics``          hot-spot topics from rules in ``lexicons/topic_rules.yaml``
- ``sentiment``       explainable urgency score from ``lexicons/escalation_cues.tsv``
- ``classifier``      supervised business type / complaint class / second level
- ``pipeline``        ``process_batch`` and the multi-process runner
"""
