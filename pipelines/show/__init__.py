"""What the dashboard and the audit pack both show: each figure's definition and label, the
Plotly charts, value formatting and the CSV/XLSX exports."""
