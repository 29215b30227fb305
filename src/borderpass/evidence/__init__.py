"""Evidence: test results, vaccinations, officers' records, and their ingestion."""
