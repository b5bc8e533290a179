"""Design templates (installed as `designer_templates`); see designer.templates."""
