"""Official texts into corpus files: PDF, web pages, DOCX, Justel; de-gluing; `corpus add`."""
