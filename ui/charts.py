"""Chart builders for the pages. The builders themselves live in metrics.charts (Altair
specs, no Streamlit), so the meeting pack's PDF draws the same charts."""

from metrics.charts import cumulative_path, deviation_bars

__all__ = ["cumulative_path", "deviation_bars"]
